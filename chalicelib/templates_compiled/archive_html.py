from jinja2.runtime import LoopContext, Macro, Markup, Namespace, TemplateNotFound, TemplateReference, TemplateRuntimeError, Undefined, escape, identity, internalcode, markup_join, missing, str_join
name = 'archive.html'

def root(context, missing=missing):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    parent_template = None
    l_0_section = l_0_exact = missing
    pass
    parent_template = environment.get_template('base.html', 'archive.html')
    for name, parent_block in parent_template.blocks.items():
        context.blocks.setdefault(name, []).append(parent_block)
    l_0_section = 'archive'
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
    yield 'Archive · '
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
    yield 'Every month of '
    yield escape(environment.getattr((undefined(name='site') if l_0_site is missing else l_0_site), 'title'))
    yield ', with its number of posts'

def block_content(context, missing=missing):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    _block_vars = {}
    l_0_years = resolve('years')
    try:
        t_1 = environment.filters['month_name']
    except KeyError:
        @internalcode
        def t_1(*unused):
            raise TemplateRuntimeError("No filter named 'month_name' found.")
    pass
    yield '<h1>Archive</h1>\n'
    t_2 = 1
    for (l_1_year, l_1_months) in context.call(environment.getattr((undefined(name='years') if l_0_years is missing else l_0_years), 'items'), _block_vars=_block_vars):
        _loop_vars = {}
        pass
        yield '<section class="archive-year" id="'
        yield escape(l_1_year)
        yield '">\n  <h2>'
        yield escape(l_1_year)
        yield '</h2>\n  <ul>\n'
        for l_2_month in l_1_months:
            _loop_vars = {}
            pass
            yield '    <li><a href="'
            yield escape(environment.getattr(l_2_month, 'path'))
            yield '">'
            yield escape(t_1(environment.getattr(l_2_month, 'key')))
            yield '</a> <span class="count">'
            yield escape(environment.getattr(l_2_month, 'count'))
            yield ' post'
            yield escape(('s' if (environment.getattr(l_2_month, 'count') != 1) else cond_expr_undefined("the inline if-expression on line 13 in 'archive.html' evaluated to false and no else section was defined.")))
            yield '</span></li>\n'
        l_2_month = missing
        yield '  </ul>\n</section>\n'
        t_2 = 0
    l_1_year = l_1_months = missing
    if t_2:
        pass
        yield '<p class="empty">Nothing has been published yet.</p>\n'

blocks = {'title': block_title, 'description': block_description, 'content': block_content}
debug_info = '1=13&2=16&3=19&4=24&5=36&6=49&8=66&9=70&10=72&12=74&13=78'
# Generated from chalicelib/templates/archive.html by `make templates`; do not edit.
SOURCE_DIGEST = '970fc5b09de52c64fbb62e0cec7a1ba13f60a3192677ebed0b3ee08855f30cbd'
