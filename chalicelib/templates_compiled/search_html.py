from jinja2.runtime import LoopContext, Macro, Markup, Namespace, TemplateNotFound, TemplateReference, TemplateRuntimeError, Undefined, escape, identity, internalcode, markup_join, missing, str_join
name = 'search.html'

def root(context, missing=missing):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    parent_template = None
    l_0_tag_list = l_0_post_meta = l_0_section = missing
    pass
    parent_template = environment.get_template('base.html', 'search.html')
    for name, parent_block in parent_template.blocks.items():
        context.blocks.setdefault(name, []).append(parent_block)
    included_template = environment.get_template('_post_list.html', 'search.html').make_module(context.get_all(), True, {'post_meta': l_0_post_meta, 'section': l_0_section, 'tag_list': l_0_tag_list})
    l_0_tag_list = getattr(included_template, 'tag_list', missing)
    if l_0_tag_list is missing:
        l_0_tag_list = undefined(f"the template {included_template.__name__!r} (imported on line 2 in 'search.html') does not export the requested name 'tag_list'", name='tag_list')
    l_0_post_meta = getattr(included_template, 'post_meta', missing)
    if l_0_post_meta is missing:
        l_0_post_meta = undefined(f"the template {included_template.__name__!r} (imported on line 2 in 'search.html') does not export the requested name 'post_meta'", name='post_meta')
    context.vars.update({'tag_list': l_0_tag_list, 'post_meta': l_0_post_meta})
    context.exported_vars.difference_update(('tag_list', 'post_meta'))
    l_0_section = 'search'
    context.vars['section'] = l_0_section
    context.exported_vars.add('section')
    yield from parent_template.root_render_func(context)

def block_title(context, missing=missing):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    _block_vars = {}
    l_0_searched = resolve('searched')
    l_0_query = resolve('query')
    l_0_site = resolve('site')
    pass
    if (undefined(name='searched') if l_0_searched is missing else l_0_searched):
        pass
        yield '“'
        yield escape((undefined(name='query') if l_0_query is missing else l_0_query))
        yield '” · '
    yield 'Search · '
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
    yield 'Search the posts of '
    yield escape(environment.getattr((undefined(name='site') if l_0_site is missing else l_0_site), 'title'))

def block_query(context, missing=missing):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    _block_vars = {}
    l_0_query = resolve('query')
    pass
    yield escape((undefined(name='query') if l_0_query is missing else l_0_query))

def block_content(context, missing=missing):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    _block_vars = {}
    l_0_searched = resolve('searched')
    l_0_has_terms = resolve('has_terms')
    l_0_query = resolve('query')
    l_0_results = resolve('results')
    l_0_total = resolve('total')
    l_0_count = resolve('count')
    l_0_exact = resolve('exact')
    l_0_suggestion = resolve('suggestion')
    try:
        t_1 = environment.filters['default']
    except KeyError:
        @internalcode
        def t_1(*unused):
            raise TemplateRuntimeError("No filter named 'default' found.")
    try:
        t_2 = environment.filters['length']
    except KeyError:
        @internalcode
        def t_2(*unused):
            raise TemplateRuntimeError("No filter named 'length' found.")
    try:
        t_3 = environment.filters['safe']
    except KeyError:
        @internalcode
        def t_3(*unused):
            raise TemplateRuntimeError("No filter named 'safe' found.")
    pass
    yield '<h1>Search</h1>\n'
    if (not (undefined(name='searched') if l_0_searched is missing else l_0_searched)):
        pass
        yield '<p>Type words from a title, a tag or a post into the search box.</p>\n'
    elif (not (undefined(name='has_terms') if l_0_has_terms is missing else l_0_has_terms)):
        pass
        yield '<p class="empty">“'
        yield escape((undefined(name='query') if l_0_query is missing else l_0_query))
        yield '” has no words to search for. Try a word from a title, a tag or a post.</p>\n'
    else:
        pass
        if (undefined(name='results') if l_0_results is missing else l_0_results):
            pass
            l_0_count = t_1((undefined(name='total') if l_0_total is missing else l_0_total), t_2((undefined(name='results') if l_0_results is missing else l_0_results)))
            _block_vars['count'] = l_0_count
            yield '<p class="result-count">'
            yield escape((undefined(name='count') if l_0_count is missing else l_0_count))
            yield escape(('+' if (not t_1((undefined(name='exact') if l_0_exact is missing else l_0_exact), True)) else cond_expr_undefined("the inline if-expression on line 16 in 'search.html' evaluated to false and no else section was defined.")))
            yield ' '
            yield escape(('post matches' if ((undefined(name='count') if l_0_count is missing else l_0_count) == 1) else 'posts match'))
            yield ' “'
            yield escape((undefined(name='query') if l_0_query is missing else l_0_query))
            yield '”.</p>\n'
        else:
            pass
            yield '<p class="empty result-count">No posts match “'
            yield escape((undefined(name='query') if l_0_query is missing else l_0_query))
            yield '”.</p>\n'
        if (undefined(name='suggestion') if l_0_suggestion is missing else l_0_suggestion):
            pass
            yield '<p class="suggestion">Did you mean <a href="'
            yield escape(environment.getattr((undefined(name='suggestion') if l_0_suggestion is missing else l_0_suggestion), 'path'))
            yield '">'
            yield escape(environment.getattr((undefined(name='suggestion') if l_0_suggestion is missing else l_0_suggestion), 'query'))
            yield '</a>?</p>\n'
        if (undefined(name='results') if l_0_results is missing else l_0_results):
            pass
            yield '<ol class="post-list search-results">\n'
            for l_1_post in (undefined(name='results') if l_0_results is missing else l_0_results):
                l_1_post_meta = resolve('post_meta')
                l_1_tag_list = resolve('tag_list')
                _loop_vars = {}
                pass
                yield '  <li>\n    <article class="post-summary">\n      <h2><a href="'
                yield escape(environment.getattr(l_1_post, 'path'))
                yield '">'
                yield escape(environment.getattr(l_1_post, 'title'))
                yield '</a></h2>\n      '
                yield escape(context.call((undefined(name='post_meta') if l_1_post_meta is missing else l_1_post_meta), l_1_post, _loop_vars=_loop_vars))
                yield '\n'
                if environment.getattr(l_1_post, 'snippet_html'):
                    pass
                    yield '<p class="snippet">'
                    yield escape(t_3(environment.getattr(l_1_post, 'snippet_html')))
                    yield '</p>'
                elif environment.getattr(l_1_post, 'summary'):
                    pass
                    yield '<p>'
                    yield escape(environment.getattr(l_1_post, 'summary'))
                    yield '</p>'
                yield '      '
                yield escape(context.call((undefined(name='tag_list') if l_1_tag_list is missing else l_1_tag_list), environment.getattr(l_1_post, 'tags'), _loop_vars=_loop_vars))
                yield '\n    </article>\n  </li>\n'
            l_1_post = l_1_post_meta = l_1_tag_list = missing
            yield '</ol>\n'

blocks = {'title': block_title, 'description': block_description, 'query': block_query, 'content': block_content}
debug_info = '1=13&2=16&3=25&4=30&5=49&6=61&7=72&9=107&11=110&12=113&14=117&15=119&16=122&18=132&20=134&21=137&23=141&25=144&28=150&29=154&31=156&32=167'
# Generated from chalicelib/templates/search.html by `make templates`; do not edit.
SOURCE_DIGEST = '1869a76d6bf50b62e6d7c895fcffb00bccf37645b054064a82774cd67cc1fbbe'
