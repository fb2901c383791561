import pytest

from tests.factories import LeadFactory, stage_named


@pytest.fixture
def htmx():
    return {"HX-Request": "true"}


@pytest.fixture
def own_lead(sales):
    """A lead assigned to the `sales` fixture user."""
    return LeadFactory(assigned_to=sales, name="Anita Nair", phone="+919876543210", email="anita@example.com")


@pytest.fixture
def others_lead(other_sales):
    """A lead assigned to another counsellor (`other_sales`)."""
    return LeadFactory(assigned_to=other_sales, name="Rahul Menon", phone="+919812345678", email="rahul@example.com")


@pytest.fixture
def stages(db):
    return {name: stage_named(name) for name in ("New", "Valid", "Interested", "Follow-up", "Call not attended", "Admission")}

