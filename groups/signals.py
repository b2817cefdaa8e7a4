"""Signals other apps listen to, so that groups never needs to know them.

`membership_ended` is sent inside the transaction that ends a membership (leaving, being
removed, erasure), while the group's row is locked: receivers release what the person
held in the group (the meetings app frees their places at future meetings) in the same
transaction, so a place is never both freed and still taken.
"""

from django.dispatch import Signal

# Arguments: group_id, user_id.
membership_ended = Signal()
