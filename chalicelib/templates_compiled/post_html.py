from jinja2.runtime import LoopContext, Macro, Markup, Namespace, TemplateNotFound, TemplateReference, TemplateRuntimeError, Undefined, escape, identity, internalcode, markup_join, missing, str_join
name = 'post.html'

def root(context, missing=missing):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    parent_template = None
    l_0_tag_list = l_0_authors_of = l_0_published = missing
    pass
    parent_template = environment.get_template('base.html', 'post.html')
    for name, parent_block in parent_template.blocks.items():
        context.blocks.setdefault(name, []).append(parent_block)
    included_template = environment.get_template('_post_list.html', 'post.html').make_module(context.get_all(), True, {'authors_of': l_0_authors_of, 'published': l_0_published, 'tag_list': l_0_tag_list})
    l_0_tag_list = getattr(included_template, 'tag_list', missing)
    if l_0_tag_list is missing:
        l_0_tag_list = undefined(f"the template {included_template.__name__!r} (imported on line 2 in 'post.html') does not export the requested name 'tag_list'", name='tag_list')
    l_0_authors_of = getattr(included_template, 'authors_of', missing)
    if l_0_authors_of is missing:
        l_0_authors_of = undefined(f"the template {included_template.__name__!r} (imported on line 2 in 'post.html') does not export the requested name 'authors_of'", name='authors_of')
    l_0_published = getattr(included_template, 'published', missing)
    if l_0_published is missing:
        l_0_published = undefined(f"the template {included_template.__name__!r} (imported on line 2 in 'post.html') does not export the requested name 'published'", name='published')
    context.vars.update({'tag_list': l_0_tag_list, 'authors_of': l_0_authors_of, 'published': l_0_published})
    context.exported_vars.difference_update(('tag_list', 'authors_of', 'published'))
    yield from parent_template.root_render_func(context)

def block_title(context, missing=missing):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    _block_vars = {}
    l_0_post = resolve('post')
    l_0_site = resolve('site')
    pass
    yield escape(environment.getattr((undefined(name='post') if l_0_post is missing else l_0_post), 'title'))
    yield ' · '
    yield escape(environment.getattr((undefined(name='site') if l_0_site is missing else l_0_site), 'title'))

def block_description(context, missing=missing):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    _block_vars = {}
    l_0_post = resolve('post')
    pass
    yield escape((environment.getattr((undefined(name='post') if l_0_post is missing else l_0_post), 'summary') or environment.getattr((undefined(name='post') if l_0_post is missing else l_0_post), 'title')))

def block_og_type(context, missing=missing):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    _block_vars = {}
    pass
    yield 'article'

def block_head_extra(context, missing=missing):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    _block_vars = {}
    l_0_post = resolve('post')
    pass
    yield '<meta property="article:published_time" content="'
    yield escape(environment.getattr((undefined(name='post') if l_0_post is missing else l_0_post), 'date'))
    yield '">\n'
    if environment.getattr((undefined(name='post') if l_0_post is missing else l_0_post), 'updated'):
        pass
        yield '<meta property="article:modified_time" content="'
        yield escape(environment.getattr((undefined(name='post') if l_0_post is missing else l_0_post), 'updated'))
        yield '">'
    for l_1_author in environment.getattr((undefined(name='post') if l_0_post is missing else l_0_post), 'authors'):
        l_1_absolute = resolve('absolute')
        _loop_vars = {}
        pass
        yield '<meta property="article:author" content="'
        yield escape(context.call((undefined(name='absolute') if l_1_absolute is missing else l_1_absolute), markup_join(('/authors/', environment.getattr(l_1_author, 'slug'), )), _loop_vars=_loop_vars))
        yield '">\n'
    l_1_author = l_1_absolute = missing
    for l_1_tag in environment.getattr((undefined(name='post') if l_0_post is missing else l_0_post), 'tags'):
        _loop_vars = {}
        pass
        yield '<meta property="article:tag" content="'
        yield escape(environment.getattr(l_1_tag, 'name'))
        yield '">\n'
    l_1_tag = missing

def block_content(context, missing=missing):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    _block_vars = {}
    l_0_post = resolve('post')
    l_0_published = resolve('published')
    l_0_authors_of = resolve('authors_of')
    l_0_tag_list = resolve('tag_list')
    l_0_toc = resolve('toc')
    l_0_body = resolve('body')
    l_0_nav = resolve('nav')
    l_0_link = resolve('link')
    l_0_related = resolve('related')
    l_0_related_tag = resolve('related_tag')
    try:
        t_1 = environment.filters['human_date']
    except KeyError:
        @internalcode
        def t_1(*unused):
            raise TemplateRuntimeError("No filter named 'human_date' found.")
    try:
        t_2 = environment.filters['local_iso']
    except KeyError:
        @internalcode
        def t_2(*unused):
            raise TemplateRuntimeError("No filter named 'local_iso' found.")
    try:
        t_3 = environment.filters['safe']
    except KeyError:
        @internalcode
        def t_3(*unused):
            raise TemplateRuntimeError("No filter named 'safe' found.")
    pass
    yield '<article class="post">\n  <header>\n    <h1>'
    yield escape(environment.getattr((undefined(name='post') if l_0_post is missing else l_0_post), 'title'))
    yield '</h1>\n    <p class="meta">\n      '
    yield escape(context.call((undefined(name='published') if l_0_published is missing else l_0_published), (undefined(name='post') if l_0_post is missing else l_0_post), _block_vars=_block_vars))
    yield '\n'
    if environment.getattr((undefined(name='post') if l_0_post is missing else l_0_post), 'updated'):
        pass
        yield ' · updated <time datetime="'
        yield escape(t_2(environment.getattr((undefined(name='post') if l_0_post is missing else l_0_post), 'updated'), environment.getattr((undefined(name='post') if l_0_post is missing else l_0_post), 'date_offset')))
        yield '">'
        yield escape(t_1(environment.getattr((undefined(name='post') if l_0_post is missing else l_0_post), 'updated'), environment.getattr((undefined(name='post') if l_0_post is missing else l_0_post), 'date_offset')))
        yield '</time>'
    if environment.getattr((undefined(name='post') if l_0_post is missing else l_0_post), 'authors'):
        pass
        yield ' · by '
        yield escape(context.call((undefined(name='authors_of') if l_0_authors_of is missing else l_0_authors_of), (undefined(name='post') if l_0_post is missing else l_0_post), _block_vars=_block_vars))
    yield '      · '
    yield escape(environment.getattr((undefined(name='post') if l_0_post is missing else l_0_post), 'reading_minutes'))
    yield ' min read\n    </p>\n    '
    yield escape(context.call((undefined(name='tag_list') if l_0_tag_list is missing else l_0_tag_list), environment.getattr((undefined(name='post') if l_0_post is missing else l_0_post), 'tags'), _block_vars=_block_vars))
    yield '\n  </header>\n'
    if (undefined(name='toc') if l_0_toc is missing else l_0_toc):
        pass
        yield '  <nav class="toc" aria-label="Contents">\n    <h2>Contents</h2>\n    '
        yield escape(t_3((undefined(name='toc') if l_0_toc is missing else l_0_toc)))
        yield '\n  </nav>\n'
    yield '  <div class="post-body">\n'
    yield escape(t_3((undefined(name='body') if l_0_body is missing else l_0_body)))
    yield '\n  </div>\n</article>\n'
    if (environment.getattr((undefined(name='nav') if l_0_nav is missing else l_0_nav), 'newer') or environment.getattr((undefined(name='nav') if l_0_nav is missing else l_0_nav), 'older')):
        pass
        yield '<nav class="post-nav" aria-label="More posts">\n'
        if environment.getattr((undefined(name='nav') if l_0_nav is missing else l_0_nav), 'older'):
            pass
            yield '<a rel="prev" href="'
            yield escape(context.call((undefined(name='link') if l_0_link is missing else l_0_link), markup_join(('/posts/', environment.getattr(environment.getattr((undefined(name='nav') if l_0_nav is missing else l_0_nav), 'older'), 'slug'), )), _block_vars=_block_vars))
            yield '">← '
            yield escape(environment.getattr(environment.getattr((undefined(name='nav') if l_0_nav is missing else l_0_nav), 'older'), 'title'))
            yield '</a>'
        if environment.getattr((undefined(name='nav') if l_0_nav is missing else l_0_nav), 'newer'):
            pass
            yield '<a rel="next" href="'
            yield escape(context.call((undefined(name='link') if l_0_link is missing else l_0_link), markup_join(('/posts/', environment.getattr(environment.getattr((undefined(name='nav') if l_0_nav is missing else l_0_nav), 'newer'), 'slug'), )), _block_vars=_block_vars))
            yield '">'
            yield escape(environment.getattr(environment.getattr((undefined(name='nav') if l_0_nav is missing else l_0_nav), 'newer'), 'title'))
            yield ' →</a>'
        yield '</nav>\n'
    if (undefined(name='related') if l_0_related is missing else l_0_related):
        pass
        yield '<aside class="related" aria-label="More in '
        yield escape(environment.getattr((undefined(name='related_tag') if l_0_related_tag is missing else l_0_related_tag), 'name'))
        yield '">\n  <h2>More in <a href="'
        yield escape(context.call((undefined(name='link') if l_0_link is missing else l_0_link), markup_join(('/tags/', environment.getattr((undefined(name='related_tag') if l_0_related_tag is missing else l_0_related_tag), 'slug'), )), _block_vars=_block_vars))
        yield '">'
        yield escape(environment.getattr((undefined(name='related_tag') if l_0_related_tag is missing else l_0_related_tag), 'name'))
        yield '</a></h2>\n  <ul>\n'
        for l_1_other in (undefined(name='related') if l_0_related is missing else l_0_related):
            _loop_vars = {}
            pass
            yield '<li><a href="'
            yield escape(context.call((undefined(name='link') if l_0_link is missing else l_0_link), markup_join(('/posts/', environment.getattr(l_1_other, 'slug'), )), _loop_vars=_loop_vars))
            yield '">'
            yield escape(environment.getattr(l_1_other, 'title'))
            yield '</a></li>'
        l_1_other = missing
        yield '  </ul>\n</aside>\n'

blocks = {'title': block_title, 'description': block_description, 'og_type': block_og_type, 'head_extra': block_head_extra, 'content': block_content}
debug_info = '1=13&2=16&3=30&4=44&5=55&6=65&7=75&8=77&9=82&11=90&14=98&17=135&19=137&20=139&21=146&22=151&24=153&26=155&29=158&33=161&36=163&38=166&39=173&42=181&43=184&44=186&46=190'
# Generated from chalicelib/templates/post.html by `make templates`; do not edit.
SOURCE_DIGEST = '34922a73d8aa23febec1b6de08d7bd5b3f4d11f68c7c3e0273abeb834a15638c'
