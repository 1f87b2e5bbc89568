from jinja2.runtime import LoopContext, Macro, Markup, Namespace, TemplateNotFound, TemplateReference, TemplateRuntimeError, Undefined, escape, identity, internalcode, markup_join, missing, str_join
name = 'error.html'

def root(context, missing=missing):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    parent_template = None
    pass
    parent_template = environment.get_template('base.html', 'error.html')
    for name, parent_block in parent_template.blocks.items():
        context.blocks.setdefault(name, []).append(parent_block)
    yield from parent_template.root_render_func(context)

def block_title(context, missing=missing):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    _block_vars = {}
    l_0_title = resolve('title')
    l_0_site = resolve('site')
    pass
    yield escape((undefined(name='title') if l_0_title is missing else l_0_title))
    yield ' · '
    yield escape(environment.getattr((undefined(name='site') if l_0_site is missing else l_0_site), 'title'))

def block_description(context, missing=missing):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    _block_vars = {}
    l_0_message = resolve('message')
    pass
    yield escape((undefined(name='message') if l_0_message is missing else l_0_message))

def block_head_extra(context, missing=missing):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    _block_vars = {}
    pass
    yield '<meta name="robots" content="noindex">'

def block_content(context, missing=missing):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    _block_vars = {}
    l_0_title = resolve('title')
    l_0_message = resolve('message')
    l_0_link = resolve('link')
    pass
    yield '<section class="error">\n  <h1>'
    yield escape((undefined(name='title') if l_0_title is missing else l_0_title))
    yield '</h1>\n  <p>'
    yield escape((undefined(name='message') if l_0_message is missing else l_0_message))
    yield '</p>\n  <p><a href="'
    yield escape(context.call((undefined(name='link') if l_0_link is missing else l_0_link), '/', _block_vars=_block_vars))
    yield '">Go to the front page</a> or <a href="'
    yield escape(context.call((undefined(name='link') if l_0_link is missing else l_0_link), '/search', _block_vars=_block_vars))
    yield '">search the blog</a>.</p>\n</section>\n'

blocks = {'title': block_title, 'description': block_description, 'head_extra': block_head_extra, 'content': block_content}
debug_info = '1=12&2=17&3=31&4=42&5=52&7=64&8=66&9=68'
# Generated from chalicelib/templates/error.html by `make templates`; do not edit.
SOURCE_DIGEST = '7b7f5ebe4aeb352b27e514c8b79ccfca6ce01c8375d2d6c6a9ef00530e99d9f1'
