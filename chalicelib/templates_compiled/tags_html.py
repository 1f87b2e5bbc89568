from jinja2.runtime import LoopContext, Macro, Markup, Namespace, TemplateNotFound, TemplateReference, TemplateRuntimeError, Undefined, escape, identity, internalcode, markup_join, missing, str_join
name = 'tags.html'

def root(context, missing=missing):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    parent_template = None
    l_0_section = l_0_exact = missing
    pass
    parent_template = environment.get_template('base.html', 'tags.html')
    for name, parent_block in parent_template.blocks.items():
        context.blocks.setdefault(name, []).append(parent_block)
    l_0_section = 'tags'
    context.vars['section'] = l_0_section
    context.exported_vars.add('section')
    l_0_exact = True
    context.vars['exact'] = l_0_exact
    context.exported_vars.add('exact')
    yield from parent_template.root_render_func(context)

def block_title(context, missing=missing):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    _block_vars = {}
    l_0_site = resolve('site')
    pass
    yield 'Tags · '
    yield escape(environment.getattr((undefined(name='site') if l_0_site is missing else l_0_site), 'title'))

def block_description(context, missing=missing):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    _block_vars = {}
    l_0_site = resolve('site')
    pass
    yield 'Every tag of '
    yield escape(environment.getattr((undefined(name='site') if l_0_site is missing else l_0_site), 'title'))
    yield ', with its number of posts'

def block_content(context, missing=missing):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    _block_vars = {}
    l_0_tags = resolve('tags')
    pass
    yield '<h1>Tags</h1>\n'
    if (undefined(name='tags') if l_0_tags is missing else l_0_tags):
        pass
        yield '<ul class="tag-cloud">\n'
        for l_1_tag in (undefined(name='tags') if l_0_tags is missing else l_0_tags):
            l_1_link = resolve('link')
            _loop_vars = {}
            pass
            yield '  <li><a class="weight-'
            yield escape(environment.getattr(l_1_tag, 'weight'))
            yield '" href="'
            yield escape(context.call((undefined(name='link') if l_1_link is missing else l_1_link), markup_join(('/tags/', environment.getattr(l_1_tag, 'slug'), )), _loop_vars=_loop_vars))
            yield '">'
            yield escape(environment.getattr(l_1_tag, 'name'))
            yield ' <span class="count">'
            yield escape(environment.getattr(l_1_tag, 'count'))
            yield '<span class="visually-hidden"> post'
            yield escape(('s' if (environment.getattr(l_1_tag, 'count') != 1) else cond_expr_undefined("the inline if-expression on line 11 in 'tags.html' evaluated to false and no else section was defined.")))
            yield '</span></span></a></li>\n'
        l_1_tag = l_1_link = missing
        yield '</ul>\n'
    else:
        pass
        yield '<p class="empty">No tags yet.</p>\n'

blocks = {'title': block_title, 'description': block_description, 'content': block_content}
debug_info = '1=13&2=16&3=19&4=24&5=36&6=49&8=59&10=62&11=67'
# Generated from chalicelib/templates/tags.html by `make templates`; do not edit.
SOURCE_DIGEST = '268603a32b66ded99a53b5e363deb0a50bffce9afcc8ad1065070d9fefdf9611'
