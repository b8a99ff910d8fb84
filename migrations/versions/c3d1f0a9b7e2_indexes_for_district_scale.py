"""Indexes for district scale: deep proposal board pages, scoped notices

Revision ID: c3d1f0a9b7e2
Revises: e5566a257778
Create Date: 2026-11-22 15:00:00

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "c3d1f0a9b7e2"
down_revision = "e5566a257778"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("proposal", schema=None) as batch_op:
        batch_op.drop_index("ix_proposal_compound_created")
        batch_op.create_index(
            "ix_proposal_compound_created", ["compound_id", "created_at", "id"], unique=False
        )
    with op.batch_alter_table("notice", schema=None) as batch_op:
        batch_op.create_index("ix_notice_scope_street", ["scope_type", "street_id"], unique=False)
        batch_op.create_index(
            "ix_notice_scope_community", ["scope_type", "community_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("notice", schema=None) as batch_op:
        batch_op.drop_index("ix_notice_scope_community")
        batch_op.drop_index("ix_notice_scope_street")
    with op.batch_alter_table("proposal", schema=None) as batch_op:
        batch_op.drop_index("ix_proposal_compound_created")
        batch_op.create_index(
            "ix_proposal_compound_created", ["compound_id", "created_at"], unique=False
        )
