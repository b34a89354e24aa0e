"""Pratt parser for expr-lang, following expr v1.17's precedence and associativity rules.

Notable expr rules kept here: unary ``not``/``!`` (50) bind tighter than comparisons (20), so
``not a == b`` is ``(not a) == b``; ``-`` (90) is looser than ``**`` (100, right-assoc);
``a < b < c`` means ``a < b && b < c``; ``??`` cannot be mixed with other operators without
parentheses; map literal keys may be bare identifiers; ``let x = v; body`` and
``if c { a } else { b }`` start an expression only at the lowest precedence; inside a
predicate argument (``filter(xs, # > 1)``, ``any(xs, {.Name == 'x'})``) ``#``, ``#index``,
``#acc`` and a leading ``.`` (``#.``) are pointers.
"""
from __future__ import annotations

from engine.expr import ast
from engine.expr.errors import ExprError
from engine.expr.lexer import Token, tokenize

UNARY = {"not": 50, "!": 50, "-": 90, "+": 90}
BINARY: dict[str, tuple[int, bool]] = {  # op -> (precedence, right associative)
    "|": (0, False),
    "or": (10, False), "||": (10, False),
    "and": (15, False), "&&": (15, False),
    "==": (20, False), "!=": (20, False), "<": (20, False), ">": (20, False),
    ">=": (20, False), "<=": (20, False),
    "in": (20, False), "matches": (20, False), "contains": (20, False),
    "startsWith": (20, False), "endsWith": (20, False),
    "..": (25, False),
    "+": (30, False), "-": (30, False),
    "*": (60, False), "/": (60, False), "%": (60, False),
    "**": (100, True), "^": (100, True),
    "??": (500, False),
}
_COMPARISONS = frozenset({"<", ">", "<=", ">="})
_NEGATABLE = frozenset({"contains", "matches", "startsWith", "endsWith", "in"})

# expr builtins that take a predicate (closure) argument, and the rest of expr's builtins:
# they parse as builtins, so a later issue only has to implement them.
# name -> argument kinds: "e" expression, "p" predicate; a trailing "?" makes it optional.
PREDICATE_BUILTINS: dict[str, tuple[str, ...]] = {
    "all": ("e", "p"), "none": ("e", "p"), "any": ("e", "p"), "one": ("e", "p"),
    "filter": ("e", "p"), "map": ("e", "p"), "count": ("e", "p?"), "sum": ("e", "p?"),
    "find": ("e", "p"), "findIndex": ("e", "p"), "findLast": ("e", "p"),
    "findLastIndex": ("e", "p"), "groupBy": ("e", "p"), "sortBy": ("e", "p", "e?"),
    "reduce": ("e", "p", "e?"),
}


def parse(source: str) -> ast.Node:
    """Parse ``source`` into an AST; raises :class:`ExprError` with the position."""
    return _Parser(source).parse()


class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source
        self.tokens = tokenize(source)
        self.i = 0
        self.depth = 0  # predicate nesting: where "#" and a leading "." are allowed

    # -- token helpers ---------------------------------------------------------------
    @property
    def cur(self) -> Token:
        return self.tokens[self.i]

    def advance(self) -> Token:
        tok = self.tokens[self.i]
        if tok.kind != "eof":
            self.i += 1
        return tok

    def error(self, message: str, tok: Token | None = None) -> ExprError:
        tok = tok or self.cur
        return ExprError(message, self.source, tok.pos)

    def unexpected(self, tok: Token | None = None) -> ExprError:
        tok = tok or self.cur
        if tok.kind == "eof":
            return self.error("unexpected end of expression", tok)
        return self.error(f"unexpected token {_describe(tok)}", tok)

    def expect_bracket(self, value: str) -> Token:
        if not self.cur.is_bracket(value):
            raise self.unexpected()
        return self.advance()

    def expect_op(self, value: str) -> Token:
        if not self.cur.is_op(value):
            raise self.unexpected()
        return self.advance()

    # -- grammar ---------------------------------------------------------------------
    def parse(self) -> ast.Node:
        node = self.parse_sequence()
        if self.cur.kind != "eof":
            raise self.unexpected()
        return node

    def parse_sequence(self) -> ast.Node:
        nodes = [self.parse_expression(0)]
        while self.cur.is_op(";"):
            self.advance()
            if self.cur.kind == "eof":  # a trailing ";"
                break
            nodes.append(self.parse_expression(0))
        if len(nodes) == 1:
            return nodes[0]
        return ast.Sequence(nodes[0].pos, tuple(nodes))

    def parse_let(self) -> ast.Node:
        self.expect_op("let")
        name = self.cur
        if name.kind != "ident":
            raise self.unexpected()
        self.advance()
        self.expect_op("=")
        value = self.parse_expression(0)
        self.expect_op(";")
        body = self.parse_sequence()
        return ast.Let(name.pos, name.value, value, body)

    def parse_if(self) -> ast.Node:
        start = self.expect_op("if")
        cond = self.parse_expression(0)
        self.expect_bracket("{")
        then = self.parse_sequence()
        self.expect_bracket("}")
        self.expect_op("else")
        if self.cur.is_op("if"):
            otherwise = self.parse_if()
        else:
            self.expect_bracket("{")
            otherwise = self.parse_sequence()
            self.expect_bracket("}")
        return ast.Conditional(start.pos, cond, then, otherwise)

    def parse_expression(self, precedence: int) -> ast.Node:
        if precedence == 0 and self.cur.is_op("let"):
            return self.parse_let()
        if precedence == 0 and self.cur.is_op("if"):
            return self.parse_if()
        left = self.parse_primary()
        prev_op = ""
        while self.cur.kind == "op":
            op_tok = self.cur
            negate = False
            if op_tok.is_op("not"):
                nxt = self.tokens[self.i + 1]
                if not (nxt.kind == "op" and nxt.value in _NEGATABLE):
                    raise self.unexpected(nxt)
                if BINARY[nxt.value][0] < precedence:
                    break
                negate = True
                self.advance()
                op_tok = self.cur
            info = BINARY.get(op_tok.value)
            if info is None or info[0] < precedence:
                break
            prec, right_assoc = info
            self.advance()
            if op_tok.value == "|":
                left = self.parse_pipe(left, op_tok)
                prev_op = "|"
                continue
            if prev_op == "??" and op_tok.value != "??":
                raise self.error(
                    f"Operator ({op_tok.value}) and coalesce expressions (??) cannot be mixed. "
                    "Wrap either by parentheses.", op_tok)
            if op_tok.value in _COMPARISONS:
                left = self.parse_comparison(left, op_tok, prec)
                prev_op = op_tok.value
                continue
            right = self.parse_expression(prec if right_assoc else prec + 1)
            left = ast.Binary(op_tok.pos, op_tok.value, left, right)
            if negate:
                left = ast.Unary(op_tok.pos, "not", left)
            prev_op = op_tok.value
        if precedence == 0:
            left = self.parse_conditional(left)
        return left

    def parse_comparison(self, left: ast.Node, op_tok: Token, prec: int) -> ast.Node:
        root: ast.Node | None = None
        while True:
            right = self.parse_expression(prec + 1)
            cmp = ast.Binary(op_tok.pos, op_tok.value, left, right)
            root = cmp if root is None else ast.Binary(op_tok.pos, "&&", root, cmp)
            left = right
            op_tok = self.cur
            if not (op_tok.kind == "op" and op_tok.value in _COMPARISONS):
                return root
            self.advance()

    def parse_pipe(self, left: ast.Node, op_tok: Token) -> ast.Node:
        name_tok = self.cur
        if name_tok.kind != "ident":
            raise self.unexpected()
        self.advance()
        return self.parse_call(name_tok, [left])

    def parse_conditional(self, node: ast.Node) -> ast.Node:
        while self.cur.is_op("?"):
            q = self.advance()
            if self.cur.is_op(":"):
                self.advance()
                then, otherwise = node, self.parse_expression(0)
            else:
                then = self.parse_expression(0)
                self.expect_op(":")
                otherwise = self.parse_expression(0)
            node = ast.Conditional(q.pos, node, then, otherwise)
        return node

    def parse_primary(self) -> ast.Node:
        tok = self.cur
        if tok.kind == "op" and tok.value in UNARY:
            self.advance()
            operand = self.parse_expression(UNARY[tok.value])
            return self.parse_postfix(ast.Unary(tok.pos, tok.value, operand))
        if tok.is_bracket("("):
            self.advance()
            node = self.parse_sequence()
            self.expect_bracket(")")
            return self.parse_postfix(node)
        if self.depth > 0 and tok.is_op("#", "."):
            name = ""
            if tok.is_op("#"):
                self.advance()
                if self.cur.kind == "ident":
                    name = self.advance().value
            return self.parse_postfix(ast.Pointer(tok.pos, name))
        if tok.is_op("::"):  # ::len(x): the builtin, even where the environment has a "len"
            self.advance()
            name = self.cur
            if name.kind != "ident":
                raise self.unexpected()
            self.advance()
            return self.parse_postfix(self.parse_call(name, []))
        return self.parse_secondary()

    def parse_secondary(self) -> ast.Node:
        tok = self.cur
        node: ast.Node
        if tok.kind == "ident":
            self.advance()
            if tok.value == "true":
                return ast.Const(tok.pos, True)
            if tok.value == "false":
                return ast.Const(tok.pos, False)
            if tok.value == "nil":
                return ast.Const(tok.pos, None)
            if self.cur.is_bracket("("):
                node = self.parse_call(tok, [])
            else:
                node = ast.Ident(tok.pos, tok.value)
        elif tok.kind == "number":
            self.advance()
            return ast.Const(tok.pos, self.number(tok))
        elif tok.kind == "string":
            self.advance()
            node = ast.Const(tok.pos, tok.value)
        elif tok.is_bracket("["):
            node = self.parse_array()
        elif tok.is_bracket("{"):
            node = self.parse_map()
        else:
            raise self.unexpected()
        return self.parse_postfix(node)

    def number(self, tok: Token) -> int | float:
        text = tok.value.replace("_", "")
        low = text.lower()
        try:
            if low.startswith(("0x", "0o", "0b")):
                value: int | float = int(text, 0)
            elif "." in low or "e" in low:
                value = float(text)
            else:
                value = int(text, 10)
        except ValueError:
            raise self.error(f"invalid number literal {tok.value!r}", tok) from None
        if isinstance(value, int) and value > (1 << 63) - 1:
            raise self.error("integer literal is too large", tok)
        return value

    def parse_call(self, name_tok: Token, args: list[ast.Node]) -> ast.Node:
        kinds = PREDICATE_BUILTINS.get(name_tok.value)
        if kinds is None:
            args = args + self.parse_arguments()
            return ast.Call(name_tok.pos, name_tok.value, tuple(args))
        self.expect_bracket("(")
        remaining = kinds[len(args):]
        for i, kind in enumerate(remaining):
            if self.cur.is_bracket(")"):
                if kind.endswith("?"):
                    break
                raise self.error(f"expected at least {len(remaining)} arguments")
            if i > 0:
                self.expect_op(",")
            args.append(self.parse_predicate() if kind[0] == "p" else self.parse_expression(0))
        if self.cur.is_op(","):
            self.advance()
        self.expect_bracket(")")
        return ast.Builtin(name_tok.pos, name_tok.value, tuple(args))

    def parse_predicate(self) -> ast.Node:
        start = self.cur
        braces = start.is_bracket("{")
        if braces:
            self.advance()
        self.depth += 1
        if braces:
            node = self.parse_sequence()
        else:
            node = self.parse_expression(0)
            if self.cur.is_op(";"):
                raise self.error("wrap predicate with brackets { and }")
        self.depth -= 1
        if braces:
            self.expect_bracket("}")
        return ast.Predicate(start.pos, node)

    def parse_arguments(self) -> list[ast.Node]:
        self.expect_bracket("(")
        args: list[ast.Node] = []
        while not self.cur.is_bracket(")"):
            if args:
                self.expect_op(",")
                if self.cur.is_bracket(")"):
                    break
            args.append(self.parse_expression(0))
        self.expect_bracket(")")
        return args

    def parse_array(self) -> ast.Node:
        start = self.expect_bracket("[")
        items: list[ast.Node] = []
        while not self.cur.is_bracket("]"):
            if items:
                self.expect_op(",")
                if self.cur.is_bracket("]"):
                    break
            items.append(self.parse_expression(0))
        self.expect_bracket("]")
        return ast.Array(start.pos, tuple(items))

    def parse_map(self) -> ast.Node:
        start = self.expect_bracket("{")
        pairs: list[tuple[ast.Node, ast.Node]] = []
        while not self.cur.is_bracket("}"):
            if pairs:
                self.expect_op(",")
                if self.cur.is_bracket("}"):
                    break
            tok = self.cur
            key: ast.Node
            if tok.kind in ("number", "string", "ident"):
                self.advance()
                key = ast.Const(tok.pos, tok.value)
            elif tok.is_bracket("("):
                key = self.parse_expression(0)
            else:
                raise self.error("a map key must be a quoted string, a number, a identifier, "
                                 f"or an expression enclosed in parentheses (unexpected token {_describe(tok)})")
            self.expect_op(":")
            pairs.append((key, self.parse_expression(0)))
        self.expect_bracket("}")
        return ast.MapLit(start.pos, tuple(pairs))

    def parse_postfix(self, node: ast.Node) -> ast.Node:
        in_chain = False
        while True:
            tok = self.cur
            if tok.is_op(".", "?."):
                optional = tok.value == "?."
                self.advance()
                if optional and self.cur.is_bracket("["):
                    node = self.parse_index(node, optional=True)
                    in_chain = True
                    continue
                prop = self.advance()
                if prop.kind != "ident" and not (prop.kind == "op" and _is_identifier(prop.value)):
                    raise self.error("expected name", prop)
                if self.cur.is_bracket("("):
                    node = ast.Call(prop.pos, prop.value, tuple(self.parse_arguments()), node, optional)
                else:
                    node = ast.Member(prop.pos, node, ast.Const(prop.pos, prop.value), optional)
                in_chain = in_chain or optional
            elif tok.is_bracket("["):
                node = self.parse_index(node, optional=False)
            else:
                break
        return ast.Chain(node.pos, node) if in_chain else node

    def parse_index(self, node: ast.Node, optional: bool) -> ast.Node:
        open_tok = self.expect_bracket("[")
        if self.cur.is_op(":"):
            self.advance()
            hi = None if self.cur.is_bracket("]") else self.parse_expression(0)
            self.expect_bracket("]")
            return ast.Slice(open_tok.pos, node, None, hi)
        lo = self.parse_expression(0)
        if self.cur.is_op(":"):
            self.advance()
            hi = None if self.cur.is_bracket("]") else self.parse_expression(0)
            self.expect_bracket("]")
            return ast.Slice(open_tok.pos, node, lo, hi)
        self.expect_bracket("]")
        return ast.Member(open_tok.pos, node, lo, optional)


def _is_identifier(text: str) -> bool:
    return bool(text) and (text[0] == "_" or text[0] == "$" or text[0].isalpha()) and all(
        c == "_" or c == "$" or c.isalnum() for c in text)


def _describe(tok: Token) -> str:
    kinds = {"ident": "Identifier", "number": "Number", "string": "String", "op": "Operator",
             "bracket": "Bracket", "eof": "EOF"}
    return f'{kinds[tok.kind]}("{tok.value}")'
