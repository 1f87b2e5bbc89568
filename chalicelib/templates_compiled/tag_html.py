from jinja2.runtime import LoopContext, Macro, Markup, Namespace, TemplateNotFound, TemplateReference, TemplateRuntimeError, Undefined, escape, identity, internalcode, markup_join, missing, str_join
name = 'tag.html'

def root(context, missing=missing):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    parent_template = None
    l_0_group = resolve('group')
    l_0_post_list = l_0_pager = l_0_page_suffix = l_0_section = l_0_heading_text = missing
    pass
    parent_template = environment.get_template('base.html', 'tag.html')
    for name, parent_block in parent_template.blocks.items():
        context.blocks.setdefault(name, []).append(parent_block)
    included_template = environment.get_template('_post_list.html', 'tag.html').make_module(context.get_all(), True, {'heading_text': l_0_heading_text, 'page_suffix': l_0_page_suffix, 'pager': l_0_pager, 'post_list': l_0_post_list, 'section': l_0_section})
    l_0_post_list = getattr(included_template, 'post_list', missing)
    if l_0_post_list is missing:
        l_0_post_list = undefined(f"the template {included_template.__name__!r} (imported on line 2 in 'tag.html') does not export the requested name 'post_list'", name='post_list')
    l_0_pager = getattr(included_template, 'pager', missing)
    if l_0_pager is missing:
        l_0_pager = undefined(f"the template {included_template.__name__!r} (imported on line 2 in 'tag.html') does not export the requested name 'pager'", name='pager')
    l_0_page_suffix = getattr(included_template, 'page_suffix', missing)
    if l_0_page_suffix is missing:
        l_0_page_suffix = undefined(f"the template {included_template.__name__!r} (imported on line 2 in 'tag.html') does not export the requested name 'page_suffix'", name='page_suffix')
    context.vars.update({'post_list': l_0_post_list, 'pager': l_0_pager, 'page_suffix': l_0_page_suffix})
    context.exported_vars.difference_update(('post_list', 'pager', 'page_suffix'))
    l_0_section = ('tags' if ((undefined(name='group') if l_0_group is missing else l_0_group) and (environment.getattr((undefined(name='group') if l_0_group is missing else l_0_group), 'kind') == 'tag')) else ('archive' if (not (undefined(name='group') if l_0_group is missing else l_0_group)) else ''))
    context.vars['section'] = l_0_section
    context.exported_vars.add('section')
    def macro():
        t_1 = []
        l_1_heading = resolve('heading')
        pass
        if ((undefined(name='group') if l_0_group is missing else l_0_group) and (environment.getattr((undefined(name='group') if l_0_group is missing else l_0_group), 'kind') == 'tag')):
            pass
            t_1.extend((
                'Posts tagged “',
                escape((undefined(name='heading') if l_1_heading is missing else l_1_heading)),
                '”',
            ))
        elif (undefined(name='group') if l_0_group is missing else l_0_group):
            pass
            t_1.extend((
                'Posts by ',
                escape((undefined(name='heading') if l_1_heading is missing else l_1_heading)),
            ))
        else:
            pass
            t_1.append(
                escape((undefined(name='heading') if l_1_heading is missing else l_1_heading)),
            )
        return concat(t_1)
    context.exported_vars.add('heading_text')
    context.vars['heading_text'] = l_0_heading_text = Macro(environment, macro, 'heading_text', (), False, False, False, context.eval_ctx.autoescape)
    yield from parent_template.root_render_func(context)

def block_title(context, missing=missing):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    _block_vars = {}
    l_0_heading_text = resolve('heading_text')
    l_0_page_suffix = resolve('page_suffix')
    l_0_paging = resolve('paging')
    l_0_site = resolve('site')
    pass
    yield escape(context.call((undefined(name='heading_text') if l_0_heading_text is missing else l_0_heading_text), _block_vars=_block_vars))
    yield escape(context.call((undefined(name='page_suffix') if l_0_page_suffix is missing else l_0_page_suffix), (undefined(name='paging') if l_0_paging is missing else l_0_paging), _block_vars=_block_vars))
    yield ' · '
    yield escape(environment.getattr((undefined(name='site') if l_0_site is missing else l_0_site), 'title'))

def block_description(context, missing=missing):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    _block_vars = {}
    l_0_heading_text = resolve('heading_text')
    l_0_site = resolve('site')
    l_0_page_suffix = resolve('page_suffix')
    l_0_paging = resolve('paging')
    pass
    yield escape(context.call((undefined(name='heading_text') if l_0_heading_text is missing else l_0_heading_text), _block_vars=_block_vars))
    yield ' on '
    yield escape(environment.getattr((undefined(name='site') if l_0_site is missing else l_0_site), 'title'))
    yield escape(context.call((undefined(name='page_suffix') if l_0_page_suffix is missing else l_0_page_suffix), (undefined(name='paging') if l_0_paging is missing else l_0_paging), _block_vars=_block_vars))

def block_og_type(context, missing=missing):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    _block_vars = {}
    l_0_group = resolve('group')
    pass
    yield escape(('profile' if ((undefined(name='group') if l_0_group is missing else l_0_group) and (environment.getattr((undefined(name='group') if l_0_group is missing else l_0_group), 'kind') == 'author')) else 'website'))

def block_head_extra(context, missing=missing):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    _block_vars = {}
    l_0_group = resolve('group')
    l_0_site = resolve('site')
    l_0_heading = resolve('heading')
    l_0_absolute = resolve('absolute')
    pass
    if (undefined(name='group') if l_0_group is missing else l_0_group):
        pass
        yield '<link rel="alternate" type="application/atom+xml" title="'
        yield escape(environment.getattr((undefined(name='site') if l_0_site is missing else l_0_site), 'title'))
        yield ': '
        yield escape((undefined(name='heading') if l_0_heading is missing else l_0_heading))
        yield '" href="'
        yield escape(context.call((undefined(name='absolute') if l_0_absolute is missing else l_0_absolute), environment.getattr((undefined(name='group') if l_0_group is missing else l_0_group), 'feed'), _block_vars=_block_vars))
        yield '">'

def block_content(context, missing=missing):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    _block_vars = {}
    l_0_heading_text = resolve('heading_text')
    l_0_group = resolve('group')
    l_0_link = resolve('link')
    l_0_post_list = resolve('post_list')
    l_0_posts = resolve('posts')
    l_0_pager = resolve('pager')
    l_0_paging = resolve('paging')
    pass
    yield '<header class="listing-header">\n  <h1>'
    yield escape(context.call((undefined(name='heading_text') if l_0_heading_text is missing else l_0_heading_text), _block_vars=_block_vars))
    yield '</h1>\n'
    if (undefined(name='group') if l_0_group is missing else l_0_group):
        pass
        yield '<p class="meta"><a href="'
        yield escape(context.call((undefined(name='link') if l_0_link is missing else l_0_link), environment.getattr((undefined(name='group') if l_0_group is missing else l_0_group), 'feed'), _block_vars=_block_vars))
        yield '">Feed of '
        yield escape(('this tag' if (environment.getattr((undefined(name='group') if l_0_group is missing else l_0_group), 'kind') == 'tag') else 'these posts'))
        yield '</a></p>'
    yield '</header>\n'
    yield escape(context.call((undefined(name='post_list') if l_0_post_list is missing else l_0_post_list), (undefined(name='posts') if l_0_posts is missing else l_0_posts), _block_vars=_block_vars))
    yield '\n'
    yield escape(context.call((undefined(name='pager') if l_0_pager is missing else l_0_pager), (undefined(name='paging') if l_0_paging is missing else l_0_paging), _block_vars=_block_vars))
    yield '\n'

blocks = {'title': block_title, 'description': block_description, 'og_type': block_og_type, 'head_extra': block_head_extra, 'content': block_content}
debug_info = '1=14&2=17&3=29&4=32&5=59&6=76&7=93&8=104&9=116&11=126&13=142&14=144&16=152&17=154'
# Generated from chalicelib/templates/tag.html by `make templates`; do not edit.
SOURCE_DIGEST = '28b5f1dc8fa9f45c8fb51196464a87bc941a94ac384b8fa5d455099920f8e632'
