import pytest

from tests.factories import LeadFactory, UserFactory


@pytest.fixture
def counsellor(db):
    """counsellor("Name", **fields) -> an active sales user."""

    def make(name, **fields):
        slug = name.lower().replace(" ", ".")
        return UserFactory(role="sales", email=f"{slug}@example.com", full_name=name, **fields)

    return make


@pytest.fixture
def leads(db):
    """leads(n, **fields) -> n new leads, in pk order."""

    def make(n, **fields):
        return sorted(LeadFactory.create_batch(n, **fields), key=lambda lead: lead.pk)

    return make
