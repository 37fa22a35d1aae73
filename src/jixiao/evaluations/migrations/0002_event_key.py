import uuid

from django.db import migrations, models


def fill_keys(apps, schema_editor):
    Event = apps.get_model("evaluations", "EvaluationEvent")
    for event in Event.objects.all():
        event.key = uuid.uuid4()
        event.save(update_fields=["key"])


class Migration(migrations.Migration):
    dependencies = [("evaluations", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="evaluationevent", name="key", field=models.UUIDField(null=True, editable=False)
        ),
        migrations.RunPython(fill_keys, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="evaluationevent",
            name="key",
            field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True),
        ),
    ]
