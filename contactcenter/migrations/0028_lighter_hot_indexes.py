# The bridge writes timeline entries, transfers and audit entries with every batch:
# indexes that another index already begins with are dropped, and the audit's actor
# indexes only hold the entries that have an actor of that kind.

import django.db.models.deletion
from django.db import migrations, models


def _drop_index(model_name, name, field, index, table, column):
    """The field loses its own index; its foreign key constraint stays as it is (an
    AlterField would drop and re-add it, checking every row again)."""
    return migrations.SeparateDatabaseAndState(
        state_operations=[migrations.AlterField(model_name=model_name, name=name, field=field)],
        database_operations=[
            migrations.RunSQL(
                f'DROP INDEX IF EXISTS "{index}"',
                reverse_sql=f'CREATE INDEX IF NOT EXISTS "{index}" ON "{table}" ("{column}")',
            )
        ],
    )


def _organization():
    """A tenant table's organization, without an index of its own."""
    return models.ForeignKey(
        db_index=False,
        on_delete=django.db.models.deletion.CASCADE,
        related_name="+",
        to="contactcenter.organization",
    )


class Migration(migrations.Migration):
    dependencies = [
        ("contactcenter", "0027_queue_alert_service_level_min_calls"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="auditentry", name="audit_org_user"),
        migrations.RemoveIndex(model_name="auditentry", name="audit_org_key"),
        migrations.AlterField(
            model_name="auditentry",
            name="organization",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="contactcenter.organization",
            ),
        ),
        _drop_index(
            "callevent",
            "call",
            models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="events",
                to="contactcenter.call",
            ),
            "contactcenter_callevent_call_id_9e7e40f2",
            "contactcenter_callevent",
            "call_id",
        ),
        _drop_index(
            "callevent",
            "organization",
            _organization(),
            "contactcenter_callevent_organization_id_45df5f44",
            "contactcenter_callevent",
            "organization_id",
        ),
        _drop_index(
            "call",
            "organization",
            _organization(),
            "contactcenter_call_organization_id_f1e59a91",
            "contactcenter_call",
            "organization_id",
        ),
        _drop_index(
            "calltransfer",
            "organization",
            _organization(),
            "contactcenter_calltransfer_organization_id_e932db7f",
            "contactcenter_calltransfer",
            "organization_id",
        ),
        migrations.AddIndex(
            model_name="auditentry",
            index=models.Index(
                condition=models.Q(("actor_user_id__isnull", False)),
                fields=["organization", "actor_user_id"],
                name="audit_org_user",
            ),
        ),
        migrations.AddIndex(
            model_name="auditentry",
            index=models.Index(
                condition=models.Q(("actor_api_key_id__isnull", False)),
                fields=["organization", "actor_api_key_id"],
                name="audit_org_key",
            ),
        ),
    ]
