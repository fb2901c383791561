import factory
from django.utils import timezone

from crm.accounts.models import User
from crm.leads.models import Activity, Company, FollowUp, Lead, Stage

PASSWORD = "correct horse battery"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("email",)
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    full_name = factory.Faker("name", locale="en_IN")
    role = "sales"
    is_superuser = factory.LazyAttribute(lambda user: user.role == "admin")
    @factory.post_generation
    def password(user, create, extracted, **kwargs):
        user.set_password(extracted or PASSWORD)
        if create:
            user.save(update_fields=["password"])


def stage_named(name: str) -> Stage:
    return Stage.objects.get(name=name)


class CompanyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Company

    name = factory.Sequence(lambda n: f"Company {n}")
    industry = "Education"


class LeadFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Lead

    name = factory.Faker("name", locale="en_IN")
    phone = factory.Sequence(lambda n: f"+9198{n:08d}")
    email = factory.Sequence(lambda n: f"lead{n}@example.com")
    area = "Kakkanad"
    city = "Kochi"
    source = "Website"
    stage = factory.LazyFunction(lambda: Stage.objects.filter(is_active=True).order_by("position").first())


class ActivityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Activity

    lead = factory.SubFactory(LeadFactory)
    kind = "call"
    body = "Called"
    at = factory.LazyFunction(timezone.now)


class FollowUpFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FollowUp

    lead = factory.SubFactory(LeadFactory)
    due_at = factory.LazyFunction(timezone.now)
