"""Companies: a searchable list, a page with the company's leads (those the user may see), and the
suggestions the lead form's company field shows."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import render
from django.views.decorators.http import require_GET

from crm.core.htmx import page_or_partial

from ..listing import clean_page, lead_page
from ..models import Company
from ..selectors import company_get, leads_visible_to
from ..tables import LeadTable


def _companies(params):
    companies = Company.objects.all()
    q = " ".join(params.get("q", "").split())
    if q:
        companies = companies.filter(name__icontains=q) if len(q) >= 3 else companies.filter(name__istartswith=q)
    industry = params.get("industry", "").strip()
    if industry:
        companies = companies.filter(industry__iexact=industry)
    return companies.order_by("name", "id"), q, industry


@require_GET
@login_required
def company_list(request):
    companies, q, industry = _companies(request.GET)
    paginator = Paginator(companies, 25)
    page = paginator.get_page(request.GET.get("page"))
    industries = (Company.objects.exclude(industry="").order_by("industry")
                  .values_list("industry", flat=True).distinct()[:50])
    context = {"page": page, "q": q, "industry": industry, "industries": list(industries)}
    return render(request, page_or_partial(request, "leads/company_list.html", "company-table"), context)


@require_GET
@login_required
def company_detail(request, pk):
    company = company_get(pk)
    leads = leads_visible_to(request.user).filter(company=company)
    page = lead_page(leads, sort="-updated", page=clean_page(request.GET.get("page")))
    context = {"company": company, "page": page, "table": LeadTable(page.leads, user=None), "total": page.total}
    return render(request, page_or_partial(request, "leads/company_detail.html", "company-leads"), context)


@require_GET
@login_required
def company_options(request):
    """<option>s for the lead form's company <datalist>, 20 at most."""
    q = " ".join(request.GET.get("company_name", "").split())
    names = []
    if q:
        companies = Company.objects.filter(name__icontains=q) if len(q) >= 3 else Company.objects.filter(name__istartswith=q)
        names = list(companies.order_by("name").values_list("name", flat=True)[:20])
    return render(request, "leads/_company_options.html", {"names": names})
