from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GoalsConfig(AppConfig):
    name = "apps.goals"
    label = "goals"
    verbose_name = _("Goals and reports")

    def ready(self) -> None:
        from apps.accounts.choices import Role
        from apps.approvals import registry
        from apps.core.navigation import NavItem, register

        from . import closing, plans
        from .models import PeriodReview, SalesPlan, TargetAdjustment

        registry.register(
            registry.DocumentType(
                key="goals.salesplan",
                model=SalesPlan,
                label=_("Sales plan"),
                get_amount=lambda plan: plan.expense_budget,
                on_submitted=plans.on_plan_submitted,
                on_approved=plans.on_plan_approved,
                on_rejected=plans.on_plan_returned,
            )
        )
        registry.register(
            registry.DocumentType(
                key="goals.targetadjustment",
                model=TargetAdjustment,
                label=_("Target adjustment"),
                get_amount=lambda adjustment: adjustment.proposed_amount,
                on_submitted=plans.on_adjustment_submitted,
                on_approved=plans.on_adjustment_approved,
                on_rejected=plans.on_adjustment_returned,
            )
        )
        registry.register(
            registry.DocumentType(
                key="goals.periodreview",
                model=PeriodReview,
                label=_("Period review"),
                can_submit=closing.can_submit_review,
                on_submitted=closing.on_review_submitted,
                on_approved=closing.on_review_approved,
                on_rejected=closing.on_review_returned,
            )
        )

        goal_roles = frozenset({Role.REP, Role.SUPERVISOR, Role.MANAGER, Role.ADMIN})
        register(
            NavItem(
                "reports", _("Reports"), "goals:reports", icon="grid-1x2", order=5,
                roles=frozenset(Role.values) - {Role.INTEGRATION}, section="analysis",
            )
        )  # fmt: skip
        register(
            NavItem(
                "targets", _("Targets"), "goals:target_list", icon="bullseye", order=10,
                roles=goal_roles, section="analysis",
            )
        )  # fmt: skip
        register(
            NavItem(
                "sales-plans", _("Sales plans"), "goals:plan_list", icon="clipboard-check",
                order=11, roles=goal_roles, section="analysis",
            )
        )  # fmt: skip
        register(
            NavItem(
                "period-reviews", _("Period reviews"), "goals:review_list", icon="clipboard-data",
                order=13, roles=goal_roles, section="analysis",
            )
        )  # fmt: skip
        register(
            NavItem(
                "attainment", _("Target attainment"), "goals:attainment", icon="speedometer2",
                order=12, roles=goal_roles | {Role.FINANCE}, section="analysis",
            )
        )  # fmt: skip
