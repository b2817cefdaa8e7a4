"""Small-number suppression: no figure tells about fewer than five people, directly or by
subtraction from the totals shown beside it.

1. Primary: every count of people under THRESHOLD (zero included) is hidden, and so is an
   average of people per meeting under THRESHOLD.
2. Complementary: every sum on the page (a column and its total row, a total and its
   parts, the same total in two tables) is checked; where exactly one of its cells is
   hidden, the smallest other part is hidden too (or the total, when no part is left), so
   that the hidden value can't be had by subtraction. This repeats until no sum has a
   single hidden cell: hiding one cell can open another sum.
3. Derived: a share or an average is hidden when a count it is computed from is hidden
   (a share times its shown denominator would give the hidden numerator back).

Counts of meetings and groups describe no one and are never hidden.

Where it applies. Attendance, retention and request counts are read off registers and
rosters that the facilitator or coordinator viewing them can already see, so on screen
they are exact (`apply(shared=False)`); the exports and summaries meant for sharing
outside staff hands suppress them (`apply(shared=True)`). Outcome figures (scores and
changes from surveys: columns marked `outcome`) describe health and are suppressed in
every view, shared or not.
"""

from dataclasses import dataclass

from django.utils.translation import gettext

THRESHOLD = 5


class Suppressed:
    """Stands in for a hidden figure; renders as the words every page and export shows."""

    _instance = None

    def __new__(cls):
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __str__(self) -> str:
        return gettext("hidden: under 5 people")

    def __repr__(self) -> str:
        return "SUPPRESSED"


SUPPRESSED = Suppressed()


@dataclass(frozen=True)
class Cell:
    """The address of one figure: a table, a row (its index, or "total") and a column."""

    table: str
    row: int | str
    column: str


@dataclass(frozen=True)
class Sum:
    total: Cell
    parts: tuple[Cell, ...]


class Disclosure:
    """Collects the sums that tie a page's tables together, then hides what it must.

    Tables are outcomes.tables.Table objects: the kind of each column says whether it counts
    people (PEOPLE), people per meeting (AVERAGE) or is a share (PERCENT), and derived
    columns name the columns they are computed from.
    """

    def __init__(self, *tables) -> None:
        self.tables = {table.key: table for table in tables}
        self.sums: list[Sum] = []

    # -- describing the page ----------------------------------------------------------

    def rows_add_up(self, table: str, *columns: str, total: Cell | None = None) -> None:
        """Each column's rows add up to the table's total row (or to the cell `total`)."""
        source = self.tables[table]
        for column in columns:
            self.sums.append(
                Sum(
                    total=Cell(total.table, total.row, column)
                    if total is not None
                    else Cell(table, "total", column),
                    parts=tuple(
                        Cell(table, index, column)
                        for index, row in enumerate(source.rows)
                        if row.values.get(column) is not None
                    ),
                )
            )

    def rows_add_up_to(self, table: str, columns: dict[str, str], total: Cell) -> None:
        """Rows of `table` add up to a cell of another table: {part column: total column}."""
        source = self.tables[table]
        for part_column, total_column in columns.items():
            self.sums.append(
                Sum(
                    total=Cell(total.table, total.row, total_column),
                    parts=tuple(
                        Cell(table, index, part_column)
                        for index, row in enumerate(source.rows)
                        if row.values.get(part_column) is not None
                    ),
                )
            )

    def columns_add_up(self, table: str, total_column: str, *part_columns: str) -> None:
        """In every row (the total row too), the parts add up to `total_column`."""
        source = self.tables[table]
        rows = list(range(len(source.rows))) + (["total"] if source.total is not None else [])
        for row in rows:
            self.sums.append(
                Sum(
                    total=Cell(table, row, total_column),
                    parts=tuple(Cell(table, row, column) for column in part_columns),
                )
            )

    # -- deciding ---------------------------------------------------------------------

    def value(self, cell: Cell):
        return self.tables[cell.table].row(cell.row).values.get(cell.column)

    def primary(self, *, shared: bool = True) -> set[Cell]:
        """Small people counts: all of them when shared, only outcome figures on screen."""
        hidden = set()
        for table in self.tables.values():
            for row_ref, row in table.addressed_rows():
                for column in table.columns:
                    value = row.values.get(column.key)
                    if value is None or not column.kind.is_people:
                        continue
                    if not shared and not column.outcome:
                        continue
                    if value < THRESHOLD:
                        hidden.add(Cell(table.key, row_ref, column.key))
        return hidden

    def complementary(self, hidden: set[Cell]) -> set[Cell]:
        hidden = set(hidden)
        changed = True
        while changed:
            changed = False
            for relation in self.sums:
                cells = [
                    cell
                    for cell in (relation.total, *relation.parts)
                    if self.value(cell) is not None
                ]
                if sum(cell in hidden for cell in cells) != 1:
                    continue
                candidates = sorted(
                    (
                        cell
                        for cell in relation.parts
                        if cell not in hidden and self.value(cell) is not None
                    ),
                    key=lambda cell: (self.value(cell), str(cell.row)),
                )
                if candidates:
                    hidden.add(candidates[0])
                elif relation.total not in hidden and self.value(relation.total) is not None:
                    hidden.add(relation.total)
                else:
                    continue
                changed = True
        return hidden

    def derived(self, hidden: set[Cell]) -> set[Cell]:
        hidden = set(hidden)
        for table in self.tables.values():
            for row_ref, row in table.addressed_rows():
                for column in table.columns:
                    if not column.depends_on or row.values.get(column.key) is None:
                        continue
                    if any(Cell(table.key, row_ref, key) in hidden for key in column.depends_on):
                        hidden.add(Cell(table.key, row_ref, column.key))
        return hidden

    def hidden_cells(self, *, shared: bool = True) -> set[Cell]:
        return self.derived(self.complementary(self.primary(shared=shared)))

    def apply(self, *, shared: bool = True) -> set[Cell]:
        """Replace every hidden figure with SUPPRESSED; returns the cells hidden.

        `shared`: the figures leave staff hands (an export, a summary to pass on), so every
        small count of people is hidden; otherwise only outcome figures are."""
        hidden = self.hidden_cells(shared=shared)
        for cell in hidden:
            self.tables[cell.table].row(cell.row).values[cell.column] = SUPPRESSED
        return hidden
