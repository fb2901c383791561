from django.db import models


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class BrinIndex(models.Index):
    """A BRIN index on PostgreSQL, a plain one elsewhere.

    A BRIN index keeps one summary per 128 table pages instead of one entry per row, so it costs next to
    nothing to keep up. It suits a column whose equal values are written together: every row of one bulk
    action is inserted by one statement, so they sit side by side at the end of the table."""

    def create_sql(self, model, schema_editor, using="", **kwargs):
        if schema_editor.connection.vendor != "postgresql":
            return super().create_sql(model, schema_editor, using=using, **kwargs)
        statement = super().create_sql(model, schema_editor, using=" USING brin", **kwargs)
        # Summarise each range of pages as soon as it is full (autovacuum does it), not at the next VACUUM.
        statement.parts["extra"] = " WITH (autosummarize = on)" + statement.parts["extra"]
        return statement
