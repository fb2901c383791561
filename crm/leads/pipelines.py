"""Pipeline presets, shipped as data. `python manage.py load_pipeline <preset>` installs one."""

from django.db import transaction

# (name, kind, colour, asks_follow_up)
PRESETS = {
    "admissions": [
        ("New", "open", "#6c757d", False),
        ("Invalid", "lost", "#adb5bd", False),
        ("Valid", "open", "#0dcaf0", False),
        ("Call not attended", "open", "#ffc107", True),
        ("Plan presented", "open", "#0d6efd", False),
        ("Interested", "open", "#6610f2", False),
        ("Not interested", "lost", "#dc3545", False),
        ("Follow-up", "open", "#fd7e14", True),
        ("Shortlisted", "open", "#20c997", False),
        ("Campus visit", "open", "#6f42c1", True),
        ("Registration", "open", "#198754", False),
        ("Admission", "won", "#146c43", False),
    ],
    "sales": [
        ("Interest", "open", "#0dcaf0", False),
        ("Meeting booked", "open", "#0d6efd", True),
        ("Proposal sent", "open", "#6610f2", True),
        ("Closed win", "won", "#198754", False),
        ("Closed lost", "lost", "#dc3545", False),
    ],
    "simple": [
        ("Lead", "open", "#6c757d", False),
        ("In progress", "open", "#0d6efd", True),
        ("Active", "won", "#198754", False),
    ],
}
DEFAULT_PRESET = "admissions"


@transaction.atomic
def load_pipeline(preset: str, *, stage_model=None) -> list:
    """Make the preset's stages the active pipeline, in its order.

    Existing stages with the same name are reused (their leads keep them); stages not in the preset
    are deactivated, never deleted, so no lead or history row loses its stage.
    """
    if preset not in PRESETS:
        raise ValueError(f"Unknown pipeline preset “{preset}”; choose one of: {', '.join(PRESETS)}.")
    if stage_model is None:
        from .models import Stage as stage_model
    names = [name for name, *_ in PRESETS[preset]]
    stage_model.objects.exclude(name__in=names).update(is_active=False, position=1000)
    stages = []
    for position, (name, kind, colour, asks_follow_up) in enumerate(PRESETS[preset]):
        stage, _ = stage_model.objects.update_or_create(
            name=name,
            defaults={
                "position": position,
                "kind": kind,
                "colour": colour,
                "asks_follow_up": asks_follow_up,
                "is_active": True,
            },
        )
        stages.append(stage)
    return stages
