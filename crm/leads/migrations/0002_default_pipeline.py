from django.db import migrations


def load_default_pipeline(apps, schema_editor):
    from crm.leads.pipelines import DEFAULT_PRESET, load_pipeline

    Stage = apps.get_model("leads", "Stage")
    if not Stage.objects.exists():
        load_pipeline(DEFAULT_PRESET, stage_model=Stage)


class Migration(migrations.Migration):
    dependencies = [("leads", "0001_initial")]

    operations = [migrations.RunPython(load_default_pipeline, migrations.RunPython.noop)]
