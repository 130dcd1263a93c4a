from django.apps import AppConfig


class TestAppConfig(AppConfig):
    """A test-only document type ("memo") that goes through approvals, installed only by
    salesctl.settings_test."""

    name = "tests.testapp"
    label = "testapp"

    def ready(self) -> None:
        from apps.approvals import registry

        from .models import Memo, memo_approved, memo_returned, memo_submitted

        registry.register(
            registry.DocumentType(
                key="testapp.memo",
                model=Memo,
                label="Memo",
                get_amount=lambda memo: memo.amount,
                get_percentage=lambda memo: memo.discount,
                # A memo titled "… [override]" raises the "override" flag (engine tests).
                get_flags=lambda memo: ["override"] if "[override]" in memo.title else [],
                on_submitted=memo_submitted,
                on_approved=memo_approved,
                on_rejected=memo_returned,
            )
        )
