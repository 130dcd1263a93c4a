from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IncentivesConfig(AppConfig):
    name = "apps.incentives"
    label = "incentives"
    verbose_name = _("Assessment and incentives")

    def ready(self) -> None:
        from apps.accounts.choices import Role
        from apps.approvals import registry
        from apps.core.navigation import NavItem, register

        from . import commissions, scorecards
        from .models import CommissionStatement, Scorecard

        registry.register(
            registry.DocumentType(
                key="incentives.scorecard",
                model=Scorecard,
                label=_("Scorecard"),
                get_title=scorecards.approval_title,
                can_submit=scorecards.can_submit_scorecard,
                on_submitted=scorecards.on_scorecard_submitted,
                on_approved=scorecards.on_scorecard_approved,
                on_rejected=scorecards.on_scorecard_returned,
            )
        )
        registry.register(
            registry.DocumentType(
                key="incentives.commissionstatement",
                model=CommissionStatement,
                label=_("Commission statement"),
                get_amount=lambda statement: statement.payable,
                get_title=commissions.approval_title,
                can_submit=commissions.can_submit_statement,
                on_submitted=commissions.on_statement_submitted,
                on_approved=commissions.on_statement_approved,
                on_rejected=commissions.on_statement_returned,
            )
        )

        sales = frozenset({Role.REP, Role.SUPERVISOR, Role.MANAGER, Role.ADMIN})
        heads = frozenset({Role.SUPERVISOR, Role.MANAGER, Role.ADMIN})
        section = "incentives"
        register(
            NavItem(
                "scorecards", _("Scorecards"), "incentives:scorecard_list", icon="award",
                order=10, roles=sales, section=section,
            )
        )  # fmt: skip
        register(
            NavItem(
                "commission-statements", _("Commissions"), "incentives:statement_list",
                icon="cash-coin", order=20, roles=sales | {Role.FINANCE}, section=section,
            )
        )  # fmt: skip
        register(
            NavItem(
                "contests", _("Sales contests"), "incentives:contest_list", icon="trophy",
                order=30, roles=sales, section=section,
            )
        )  # fmt: skip
        register(
            NavItem(
                "surveys", _("Customer satisfaction"), "incentives:survey_list",
                icon="emoji-smile", order=40, roles=sales, section=section,
            )
        )  # fmt: skip
        register(
            NavItem(
                "scoring-schemes", _("Scoring schemes"), "incentives:scheme_list",
                icon="sliders", order=50, roles=frozenset({Role.ADMIN}), section=section,
            )
        )  # fmt: skip
        register(
            NavItem(
                "commission-plans", _("Commission plans"), "incentives:commission_plan_list",
                icon="percent", order=60, roles=frozenset({Role.ADMIN, Role.FINANCE}),
                section=section,
            )
        )  # fmt: skip
        register(
            NavItem(
                "diagnostics", _("Process diagnostics"), "incentives:diagnostics",
                icon="activity", order=20, roles=heads, section="analysis",
            )
        )  # fmt: skip
        register(
            NavItem(
                "competitors", _("Competitor analysis"), "incentives:competitors",
                icon="flag", order=21, roles=heads, section="analysis",
            )
        )  # fmt: skip
