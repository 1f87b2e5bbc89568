from jinja2.runtime import LoopContext, Macro, Markup, Namespace, TemplateNotFound, TemplateReference, TemplateRuntimeError, Undefined, escape, identity, internalcode, markup_join, missing, str_join
name = 'index.html'

def root(context, missing=missing):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    parent_template = None
    l_0_is_first = resolve('is_first')
    l_0_post_list = l_0_pager = l_0_page_suffix = l_0_section = l_0_exact = missing
    pass
    parent_template = environment.get_template('base.html', 'index.html')
    for name, parent_block in parent_template.blocks.items():
        context.blocks.setdefault(name, []).append(parent_block)
    included_template = environment.get_template('_post_list.html', 'index.html').make_module(context.get_all(), True, {'exact': l_0_exact, 'page_suffix': l_0_page_suffix, 'pager': l_0_pager, 'post_list': l_0_post_list, 'section': l_0_section})
    l_0_post_list = getattr(included_template, 'post_list', missing)
    if l_0_post_list is missing:
        l_0_post_list = undefined(f"the template {included_template.__name__!r} (imported on line 2 in 'index.html') does not export the requested name 'post_list'", name='post_list')
    l_0_pager = getattr(included_template, 'pager', missing)
    if l_0_pager is missing:
        l_0_pager = undefined(f"the template {included_template.__name__!r} (imported on line 2 in 'index.html') does not export the requested name 'pager'", name='pager')
    l_0_page_suffix = getattr(included_template, 'page_suffix', missing)
    if l_0_page_suffix is missing:
        l_0_page_suffix = undefined(f"the template {included_template.__name__!r} (imported on line 2 in 'index.html') does not export the requested name 'page_suffix'", name='page_suffix')
    context.vars.update({'post_list': l_0_post_list, 'pager': l_0_pager, 'page_suffix': l_0_page_suffix})
    context.exported_vars.difference_update(('post_list', 'pager', 'page_suffix'))
    l_0_section = 'home'
    context.vars['section'] = l_0_section
    context.exported_vars.add('section')
    l_0_exact = (undefined(name='is_first') if l_0_is_first is missing else l_0_is_first)
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
    l_0_page_suffix = resolve('page_suffix')
    l_0_paging = resolve('paging')
    pass
    yield escape(environment.getattr((undefined(name='site') if l_0_site is missing else l_0_site), 'title'))
    yield escape(context.call((undefined(name='page_suffix') if l_0_page_suffix is missing else l_0_page_suffix), (undefined(name='paging') if l_0_paging is missing else l_0_paging), _block_vars=_block_vars))

def block_description(context, missing=missing):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    _block_vars = {}
    l_0_is_first = resolve('is_first')
    l_0_site = resolve('site')
    l_0_page_suffix = resolve('page_suffix')
    l_0_paging = resolve('paging')
    pass
    if (undefined(name='is_first') if l_0_is_first is missing else l_0_is_first):
        pass
        yield escape((environment.getattr((undefined(name='site') if l_0_site is missing else l_0_site), 'description') or environment.getattr((undefined(name='site') if l_0_site is missing else l_0_site), 'title')))
    else:
        pass
        yield 'Posts of '
        yield escape(environment.getattr((undefined(name='site') if l_0_site is missing else l_0_site), 'title'))
        yield escape(context.call((undefined(name='page_suffix') if l_0_page_suffix is missing else l_0_page_suffix), (undefined(name='paging') if l_0_paging is missing else l_0_paging), _block_vars=_block_vars))

def block_content(context, missing=missing):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    _block_vars = {}
    l_0_is_first = resolve('is_first')
    l_0_site = resolve('site')
    l_0_page_suffix = resolve('page_suffix')
    l_0_paging = resolve('paging')
    l_0_posts = resolve('posts')
    l_0_post_list = resolve('post_list')
    l_0_pager = resolve('pager')
    pass
    if ((undefined(name='is_first') if l_0_is_first is missing else l_0_is_first) and environment.getattr((undefined(name='site') if l_0_site is missing else l_0_site), 'description')):
        pass
        yield '<section class="intro">\n  <h1>'
        yield escape(environment.getattr((undefined(name='site') if l_0_site is missing else l_0_site), 'title'))
        yield '</h1>\n  <p>'
        yield escape(environment.getattr((undefined(name='site') if l_0_site is missing else l_0_site), 'description'))
        yield '</p>\n</section>\n'
    else:
        pass
        yield '<h1 class="visually-hidden">'
        yield escape(environment.getattr((undefined(name='site') if l_0_site is missing else l_0_site), 'title'))
        yield escape(context.call((undefined(name='page_suffix') if l_0_page_suffix is missing else l_0_page_suffix), (undefined(name='paging') if l_0_paging is missing else l_0_paging), _block_vars=_block_vars))
        yield '</h1>\n'
    if (undefined(name='posts') if l_0_posts is missing else l_0_posts):
        pass
        yield escape(context.call((undefined(name='post_list') if l_0_post_list is missing else l_0_post_list), (undefined(name='posts') if l_0_posts is missing else l_0_posts), _block_vars=_block_vars))
        yield '\n'
    else:
        pass
        yield '<p class="empty">Nothing has been published yet.</p>\n'
    yield escape(context.call((undefined(name='pager') if l_0_pager is missing else l_0_pager), (undefined(name='paging') if l_0_paging is missing else l_0_paging), _block_vars=_block_vars))
    yield '\n'

blocks = {'title': block_title, 'description': block_description, 'content': block_content}
debug_info = '1=14&2=17&3=29&4=32&5=37&6=51&7=72&8=87&10=90&11=92&14=97&16=100&17=102&21=107'
# Generated from chalicelib/templates/index.html by `make templates`; do not edit.
SOURCE_DIGEST = '25757b9d87f9fbedd6bb7dcb55c3622756d8d4d8093a5006e5dac7fc5238a7d2'
