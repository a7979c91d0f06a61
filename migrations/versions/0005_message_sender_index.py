"""messages: one index for a sender's latest messages in a room; two redundant indexes dropped

The common send reads the sender's last messages in the room (slow mode, the risk engine's
context) for every message. With only (room_id, seq) that walked back through the room's
messages until it found hers: the whole room's history for a member who rarely writes, on the
path every message takes. ix_messages_room_seq repeated the (room_id, seq) unique constraint's
index, and ix_messages_sender_id is the prefix of the (sender_id, client_id) one: each cost a
write per message and served nothing the others do not.

Revision ID: 0005_message_sender_index
Revises: 0001_foundation
Create Date: 2026-11-26 14:50:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005_message_sender_index"
down_revision: str | Sequence[str] | None = "0001_foundation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_messages_room_sender_seq", "messages", ["room_id", "sender_id", "seq"], unique=False
    )
    op.drop_index("ix_messages_room_seq", table_name="messages")
    op.drop_index("ix_messages_sender_id", table_name="messages")


def downgrade() -> None:
    op.create_index("ix_messages_sender_id", "messages", ["sender_id"], unique=False)
    op.create_index("ix_messages_room_seq", "messages", ["room_id", "seq"], unique=False)
    op.drop_index("ix_messages_room_sender_seq", table_name="messages")
