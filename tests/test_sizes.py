"""Rooms stay small enough to read: no module in bot/ over 400 lines, no class over 250, no function over 80."""

from __future__ import annotations

import ast

from tests.conftest import REPO

MAX_MODULE, MAX_CLASS, MAX_FUNCTION = 400, 250, 80


def test_no_module_class_or_function_outgrows_its_limit() -> None:
    too_big = []
    for path in sorted((REPO / "bot").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        name = path.relative_to(REPO)
        if len(text.splitlines()) > MAX_MODULE:
            too_big.append(f"{name}: {len(text.splitlines())} lines")
        for node in ast.walk(ast.parse(text)):
            limit = MAX_CLASS if isinstance(node, ast.ClassDef) else MAX_FUNCTION
            if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
                size = (node.end_lineno or node.lineno) - node.lineno + 1
                if size > limit:
                    too_big.append(f"{name}:{node.lineno} {node.name}: {size} lines")
    assert not too_big, too_big
