"""The admins' pipeline editor: add, rename, recolour, reorder, deactivate, delete unused stages."""

from django.db import transaction
from django.db.models import F, Max

from .models import Lead, Stage, StatusChange


class StageInUse(ValueError):
    pass


class LastActiveStage(ValueError):
    pass


def stage_in_use(stage: Stage) -> bool:
    """A stage that any lead or any history row refers to cannot be deleted, only deactivated."""
    return (
        Lead.objects.filter(stage=stage).exists()
        or StatusChange.objects.filter(to_stage=stage).exists()
        or StatusChange.objects.filter(from_stage=stage).exists()
    )


@transaction.atomic
def stage_create(*, name: str, colour: str, kind: str, asks_follow_up: bool = False) -> Stage:
    last = Stage.objects.filter(is_active=True).aggregate(m=Max("position"))["m"]
    return Stage.objects.create(
        name=name, colour=colour, kind=kind, asks_follow_up=asks_follow_up, position=(last or 0) + 1
    )


@transaction.atomic
def stage_update(*, stage: Stage, **fields) -> Stage:
    allowed = {key: value for key, value in fields.items() if key in {"name", "colour", "kind", "asks_follow_up"}}
    Stage.objects.filter(pk=stage.pk).update(**allowed)
    stage.refresh_from_db()
    return stage


@transaction.atomic
def stage_move(*, stage: Stage, up: bool) -> None:
    """Swap the stage with its active neighbour (positions are renumbered 0..n-1 first, so ties cannot stick)."""
    stages = list(Stage.objects.select_for_update().filter(is_active=True).order_by("position", "id"))
    for position, item in enumerate(stages):
        if item.position != position:
            Stage.objects.filter(pk=item.pk).update(position=position)
            item.position = position
    index = next((i for i, item in enumerate(stages) if item.pk == stage.pk), None)
    if index is None:
        return
    other = index - 1 if up else index + 1
    if not 0 <= other < len(stages):
        return
    Stage.objects.filter(pk=stages[index].pk).update(position=stages[other].position)
    Stage.objects.filter(pk=stages[other].pk).update(position=stages[index].position)


@transaction.atomic
def stage_set_active(*, stage: Stage, active: bool) -> Stage:
    if not active and Stage.objects.filter(is_active=True).exclude(pk=stage.pk).count() == 0:
        raise LastActiveStage("The pipeline needs at least one active stage.")
    if active and not stage.is_active:
        last = Stage.objects.filter(is_active=True).aggregate(m=Max("position"))["m"]
        Stage.objects.filter(pk=stage.pk).update(is_active=True, position=(last or 0) + 1)
    else:
        Stage.objects.filter(pk=stage.pk).update(is_active=active)
        if not active:
            Stage.objects.filter(is_active=True, position__gt=stage.position).update(position=F("position") - 1)
    stage.refresh_from_db()
    return stage


@transaction.atomic
def stage_delete(*, stage: Stage) -> None:
    if stage_in_use(stage):
        raise StageInUse(f"“{stage.name}” is in use by leads or their history: deactivate it instead.")
    if stage.is_active and Stage.objects.filter(is_active=True).exclude(pk=stage.pk).count() == 0:
        raise LastActiveStage("The pipeline needs at least one active stage.")
    stage.delete()
