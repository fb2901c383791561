from django import template

from crm.exports.selectors import allowance_for, user_may_export

register = template.Library()


@register.inclusion_tag("exports/_allowance.html", takes_context=True)
def export_allowance(context):
    """The signed-in user's export allowance this month, as rows of a <dl> (the profile page)."""
    user = context["request"].user
    return {"allowance": allowance_for(user), "may_export": user_may_export(user)}
