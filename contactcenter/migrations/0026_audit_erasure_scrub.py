# A contact's erasure takes the person out of the audit trail too: the trigger of 0012
# lets an UPDATE through when the erasure set contactcenter.audit_erase for its
# transaction, and then only of what an entry said (changes, details, object_label),
# never of who acted, when, on what, or from where (contactcenter/services/audit.py,
# entries_scrub).

from django.db import migrations

GUARD = """
CREATE OR REPLACE FUNCTION contactcenter_auditentry_guard() RETURNS trigger AS $$
BEGIN
    IF current_setting('contactcenter.audit_purge', true) = 'on' AND TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    IF current_setting('contactcenter.audit_erase', true) = 'on' AND TG_OP = 'UPDATE'
       AND (to_jsonb(NEW) - 'changes' - 'details' - 'object_label')
         = (to_jsonb(OLD) - 'changes' - 'details' - 'object_label') THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit entries cannot be changed or deleted' USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""

PURGE_ONLY = """
CREATE OR REPLACE FUNCTION contactcenter_auditentry_guard() RETURNS trigger AS $$
BEGIN
    IF current_setting('contactcenter.audit_purge', true) = 'on' AND TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit entries cannot be changed or deleted' USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""


def _on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("contactcenter", "0025_callevent_monitor_mode_changed"),
    ]

    operations = [
        migrations.RunPython(_on_postgresql(GUARD), _on_postgresql(PURGE_ONLY), elidable=False),
    ]
