.PHONY: run test bench bench-reports lint format messages

run:  ## set up and run the app with demo data (web, worker, beat)
	./scripts/run

test:  ## set up and run every check and the whole test suite
	./scripts/test

bench-reports:  ## time every report and export over 1,000,000 attendance rows
	.venv/bin/python scripts/bench/reports.py

bench:  ## seed a large programme in its own database and load-test four pages with wrk
	./scripts/bench/run

format:  ## rewrite code in the project's style
	.venv/bin/ruff format . && .venv/bin/ruff check --fix .

messages:  ## refresh the translation catalogues after changing strings
	.venv/bin/python manage.py makemessages -l it --ignore=.venv --no-obsolete
