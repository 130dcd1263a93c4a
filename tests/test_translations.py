"""Both languages are complete: every user-facing string of the code and the templates has a
zh-Hans translation (English is the source language), none fuzzy, and the compiled catalog is
current."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import polib
from django.utils import translation

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


def _extract(tmp_path: Path) -> polib.POFile:
    """Run makemessages over a copy of the sources, so the committed catalog is not touched."""
    for name in ("apps", "salesctl", "templates", "locale"):
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "manage.py", tmp_path / "manage.py")
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "zh_Hans", "--no-location", "-v", "0"],
        cwd=tmp_path,
        check=True,
        env={"PATH": "/usr/bin:/bin", "DEBUG": "1", "DJANGO_SETTINGS_MODULE": "salesctl.settings"},
    )
    return polib.pofile(str(tmp_path / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"))


def test_every_string_in_the_sources_has_a_zh_hans_translation(tmp_path):
    # given the strings marked for translation in the code and templates today
    extracted = _extract(tmp_path)
    # when they are looked up in the committed catalog
    committed = {(e.msgctxt, e.msgid): e for e in polib.pofile(str(PO)) if not e.obsolete}
    missing = [
        e.msgid for e in extracted if not e.obsolete and (e.msgctxt, e.msgid) not in committed
    ]
    # then none is missing (run `make messages` and translate the new ones)
    assert missing == []


def test_catalog_has_no_untranslated_or_fuzzy_entries():
    po = polib.pofile(str(PO))
    assert [e.msgid for e in po.untranslated_entries()] == []
    assert [e.msgid for e in po.fuzzy_entries()] == []


def test_compiled_catalog_is_current():
    mo = PO.with_suffix(".mo")
    assert mo.exists(), "run `make messages` (compilemessages)"
    compiled = {(e.msgctxt, e.msgid): e.msgstr for e in polib.mofile(str(mo))}
    source = {(e.msgctxt, e.msgid): e.msgstr for e in polib.pofile(str(PO)) if e.translated()}
    assert {k: v for k, v in source.items() if k[1]} == {k: v for k, v in compiled.items() if k[1]}


def test_zh_hans_is_the_default_and_translates_a_role_name():
    with translation.override("zh-hans"):
        from apps.accounts.choices import Role

        assert str(Role.SUPERVISOR.label) == "销售主管"
