"""Parameters the papermill way, without importing papermill for Python notebooks.

Importing papermill costs more than half a second (it loads its cloud I/O handlers), so the
Python rendering is reproduced here exactly (``tests/test_executor_parameters.py`` compares it
with papermill's own translator); other languages go to papermill's translators. Values are
checked first: papermill silently writes anything unknown as the string of its ``str()``, and
stores it in the notebook's JSON metadata, which then fails to save.
"""

from __future__ import annotations

import ast
import importlib
import keyword
import logging
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "PYTHON_KERNELS",
    "DeclaredParameter",
    "ParameterProblem",
    "declared_parameters",
    "defined_parameters",
    "find_problem",
    "normalized",
    "render",
]

PYTHON_KERNELS = ("python", "pysparkkernel")


@dataclass(frozen=True)
class ParameterProblem:
    """Why one parameter cannot be injected: its name, its value, and the reason."""

    name: str
    value: Any
    reason: str


_JSON_HINT = (
    "parameters must be JSON values (None, bool, int, float, str, list, dict with str keys)"
)


def _hint(value: Any) -> str:
    if isinstance(value, (tuple, set, frozenset)):
        return "pass a list"
    if hasattr(value, "isoformat"):
        return "pass value.isoformat() and parse it in the notebook"
    if hasattr(value, "item") or hasattr(value, "tolist"):
        return "pass value.item() or value.tolist()"
    return "convert it to one of those"


# Deeper values are refused before anything walks them recursively (the check, JSON, the
# rendering, Python's parser: it takes fewer than 200 nested brackets).
_MAX_DEPTH = 100


def _value_problem(value: Any, where: str) -> str | None:
    """Why ``value`` (found at ``where``) is not a JSON value that can be saved in the
    notebook, or None when it is. Walked without recursion: the depth is what is checked."""
    stack: list[tuple[Any, str, int]] = [(value, where, 0)]
    while stack:
        item, at, depth = stack.pop()
        if depth > _MAX_DEPTH:
            return f"{where} is nested more than {_MAX_DEPTH} levels deep"
        if item is None or isinstance(item, (str, bool, int, float)):
            problem = _scalar_problem(item, at)
            if problem:
                return problem
        elif isinstance(item, list):
            stack += [(element, f"{at}[{index}]", depth + 1) for index, element in enumerate(item)]
        elif isinstance(item, dict):
            for key, element in item.items():
                if not isinstance(key, str):
                    return f"{at} has the key {key!r}, not a str; {_JSON_HINT}"
                if not _encodable(key):
                    return f"{at} has a key with a lone surrogate, which JSON cannot store"
                stack.append((element, f"{at}[{key!r}]", depth + 1))
        else:
            return f"{at} is of type {type(item).__qualname__}; {_JSON_HINT}; {_hint(item)}"
    return None


def _scalar_problem(value: str | bool | int | float | None, at: str) -> str | None:
    if isinstance(value, str) and not _encodable(value):
        return f"{at} holds a lone surrogate, which a notebook's JSON cannot store"
    if isinstance(value, int) and not isinstance(value, bool):
        try:
            str(value)
        except ValueError:  # Python writes ints of up to 4300 digits (sys.int_info)
            return f"{at} is an int of more digits than Python writes in a notebook's cell"
    return None


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _python_problem(name: str, value: Any) -> str | None:
    """Why ``name = value`` is no Python statement (``__debug__``, a limit of the parser)."""
    try:
        compile(f"{name} = {_python(value)}", "<parameters>", "exec", dont_inherit=True)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        reason = exc.msg if isinstance(exc, SyntaxError) else str(exc) or type(exc).__name__
        return f"'{name} = ...' is not valid Python: {reason}"
    return None


def normalized(parameters: Mapping[str, Any]) -> dict[str, Any]:
    """``parameters`` with path objects written as the strings they stand for."""
    return {
        name: os.fspath(value) if isinstance(value, os.PathLike) else value
        for name, value in parameters.items()
    }


def find_problem(parameters: Mapping[str, Any], language: str) -> ParameterProblem | None:
    """The first parameter that cannot be injected, or None when all can."""
    for name, value in parameters.items():
        if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name):
            reason = f"{name!r} is not a valid variable name"
            return ParameterProblem(str(name), value, reason)
        problem = _value_problem(value, name)
        if problem:
            return ParameterProblem(name, value, problem)
        if language not in PYTHON_KERNELS and isinstance(value, float) and not math.isfinite(value):
            return ParameterProblem(name, value, f"{language} notebooks cannot take {value!r}")
        if language in PYTHON_KERNELS:
            problem = _python_problem(name, value)
            if problem:
                return ParameterProblem(name, value, problem)
    return None


# -- papermill's PythonTranslator, reproduced ---------------------------------------------------


def _str(value: str) -> str:
    escaped = value.encode("unicode_escape").decode("utf-8").replace('"', r"\"")
    return f'"{escaped}"'


def _float(value: float) -> str:
    if math.isfinite(value):
        return f"{value}"
    if math.isnan(value):
        return "float('nan')"
    return "float('-inf')" if value < 0 else "float('inf')"


def _python(value: Any) -> str:
    # Same order as papermill's Translator.translate: bool before int.
    if value is None:
        return "None"
    if isinstance(value, str):
        return _str(value)
    if isinstance(value, int):  # bool too: papermill writes both with str()
        return f"{value}"
    if isinstance(value, float):
        return _float(value)
    if isinstance(value, dict):
        items = ", ".join(f"{_str(key)}: {_python(item)}" for key, item in value.items())
        return f"{{{items}}}"
    if isinstance(value, list):
        return f"[{', '.join(_python(item) for item in value)}]"
    raise TypeError(f"not a JSON value: {type(value).__qualname__}")  # checked before


def _black(content: str) -> str:
    """papermill formats the cell with black when black is installed; so do we."""
    try:
        black: Any = importlib.import_module("black")
    except ImportError:
        return content
    try:
        formatted: str = black.format_str(content, mode=black.FileMode(string_normalization=False))
    except AttributeError as exc:
        logging.getLogger("pytest_nbscrap.parameters").warning("black failed: %s", exc)
        return content
    return formatted


def render(
    parameters: Mapping[str, Any], kernel_name: str, language: str, comment: str = "Parameters"
) -> str:
    """The injected cell's source, exactly as papermill's ``translate_parameters`` writes it."""
    if kernel_name in PYTHON_KERNELS or language in PYTHON_KERNELS:
        lines = [f"# {comment}".strip()]
        lines += [f"{name} = {_python(value)}" for name, value in parameters.items()]
        return _black("\n".join(lines) + "\n")
    from papermill.translators import translate_parameters

    rendered: str = translate_parameters(kernel_name, language, dict(parameters), comment)
    return rendered


# -- what the parameters cell defines ----------------------------------------------------------


def _assigned_names(target: ast.expr) -> list[str]:
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, (ast.Tuple, ast.List)):
        return [name for element in target.elts for name in _assigned_names(element)]
    if isinstance(target, ast.Starred):
        return _assigned_names(target.value)
    return []


def _parse(source: str) -> tuple[ast.Module, str] | None:
    """The module and the text it was parsed from (``source``, magics blanked)."""
    try:
        return ast.parse(source), source
    except SyntaxError:
        pass
    # IPython magics and shell escapes are not Python; the assignments around them are. Their
    # lines are blanked, not dropped, so that line numbers stay the cell's.
    kept = ["" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines()]
    text = "\n".join(kept)
    try:
        return ast.parse(text), text
    except SyntaxError:
        return None


def defined_parameters(source: str) -> tuple[str, ...] | None:
    """Names a Python parameters cell assigns at top level, in order; None if it won't parse."""
    parsed = _parse(source)
    if parsed is None:
        return None
    names: list[str] = []
    for statement in parsed[0].body:
        if isinstance(statement, ast.Assign):
            targets = statement.targets
        elif isinstance(statement, (ast.AnnAssign, ast.AugAssign)):
            targets = [statement.target]
        else:
            continue
        for target in targets:
            names += [name for name in _assigned_names(target) if name not in names]
    return tuple(names)


@dataclass(frozen=True)
class DeclaredParameter:
    """One parameter as a Python parameters cell declares it: papermill's ``Parameter``, which
    ``papermill --help-notebook`` lists. ``type_name`` is its annotation or ``# type:``
    comment (None without either), ``default`` the source text of its value, ``help`` the
    comment beside it."""

    name: str
    type_name: str | None
    default: str
    help: str


def declared_parameters(source: str) -> tuple[DeclaredParameter, ...] | None:
    """The ``name = value  # comment`` lines of a Python parameters cell (``name: type =
    value`` too), in order; None if it won't parse."""
    parsed = _parse(source)
    if parsed is None:
        return None
    module, text = parsed
    comments = _comments(text)
    declared: list[DeclaredParameter] = []
    for statement in module.body:
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
            target, annotation = statement.targets[0], None
        elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
            target, annotation = statement.target, statement.annotation
        else:
            continue
        if not isinstance(target, ast.Name) or statement.value is None:
            continue
        type_name = _annotation(annotation)
        help_text = comments.get(statement.end_lineno or statement.lineno, "")
        if help_text.startswith("type:"):  # papermill's rule: a type comment's first word
            type_comment, _, help_text = help_text[len("type:") :].strip().partition(" ")
            type_name = type_name or type_comment or None
        default = ast.get_source_segment(text, statement.value) or ast.unparse(statement.value)
        declared.append(
            DeclaredParameter(target.id, type_name, " ".join(default.split()), help_text.strip())
        )
    return tuple(declared)


def _annotation(node: ast.expr | None) -> str | None:
    if node is None:
        return None
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value  # a string annotation, x: "int" = 1
    return ast.unparse(node)


def _comments(text: str) -> dict[int, str]:
    """Each line's comment, without its ``#``."""
    import io
    import tokenize

    found: dict[int, str] = {}
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.COMMENT:
                found[token.start[0]] = token.string[1:].strip()
    except (tokenize.TokenError, SyntaxError):  # it parsed, so this is not expected
        pass
    return found
