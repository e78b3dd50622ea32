import { CommentTag, ForTag, IfTag, InlineCommentTag, Output, TokenKind, UnlessTag, type Template, type Token } from 'liquidjs';

/**
 * Whether what a template's data can change is only its values, each written as JSON: every
 * output ends in `| json` (or reads settings only), every loop walks a root list (`records`),
 * every condition reads only forloop.first / forloop.last. The text around the values then
 * depends on the number of records alone, so rendering it for a few counts proves every body
 * it makes is JSON (a body a row could break is checked before each send instead).
 */
export function hasFixedJsonStructure(templates: Template[]): boolean {
  return templates.every((node) => fixedNode(node));
}

function fixedNode(node: Template): boolean {
  const any = node as any;
  if (any.token?.kind === TokenKind.HTML || node instanceof CommentTag || node instanceof InlineCommentTag) return true;
  if (node instanceof Output) {
    const names = (node.value.filters as { name: string }[]).map((f) => f.name);
    return names.at(-1) === 'json' || (names.length === 0 && readsOnly(node.value.initial.postfix, ['settings']));
  }
  if (node instanceof ForTag) {
    const c = node.collection as any;
    const rootList = c.kind === TokenKind.PropertyAccess && c.variable === undefined && c.props.length === 1;
    return rootList && Object.keys((node.hash as any).hash ?? {}).length === 0 && hasFixedJsonStructure(node.templates) && hasFixedJsonStructure(node.elseTemplates);
  }
  if (node instanceof IfTag || node instanceof UnlessTag) {
    return node.branches.every((b: any) => b.value.filters.length === 0 && readsOnly(b.value.initial.postfix, ['forloop'], ['first', 'last']) && hasFixedJsonStructure(b.templates))
      && hasFixedJsonStructure(node.elseTemplates ?? []);
  }
  return false;
}

/** Every variable in the expression starts at one of `roots` (and, when given, reads one of `members`). */
function readsOnly(postfix: Token[], roots: string[], members?: string[]): boolean {
  return postfix.every((t: any) => {
    if (t.kind !== TokenKind.PropertyAccess) return t.kind !== TokenKind.Range;
    const [root, member] = t.props.map((p: any) => p.content);
    return t.variable === undefined && roots.includes(root) && (!members || members.includes(member));
  });
}
