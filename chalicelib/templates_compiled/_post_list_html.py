from jinja2.runtime import LoopContext, Macro, Markup, Namespace, TemplateNotFound, TemplateReference, TemplateRuntimeError, Undefined, escape, identity, internalcode, markup_join, missing, str_join
name = '_post_list.html'

def root(context, missing=missing):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    l_0_tag_list = l_0_authors_of = l_0_published = l_0_post_meta = l_0_post_list = l_0_pager = l_0_page_suffix = missing
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
    pass
    def macro(l_1_tags):
        t_3 = []
        if l_1_tags is missing:
            l_1_tags = undefined("parameter 'tags' was not provided", name='tags')
        pass
        if l_1_tags:
            pass
            t_3.append(
                '<ul class="tags" aria-label="Tags">\n',
            )
            for l_2_tag in l_1_tags:
                l_2_link = resolve('link')
                _loop_vars = {}
                pass
                t_3.extend((
                    '<li><a href="',
                    escape(context.call((undefined(name='link') if l_2_link is missing else l_2_link), markup_join(('/tags/', environment.getattr(l_2_tag, 'slug'), )), _loop_vars=_loop_vars)),
                    '">',
                    escape(environment.getattr(l_2_tag, 'name')),
                    '</a></li>',
                ))
            l_2_tag = l_2_link = missing
            t_3.append(
                '</ul>\n',
            )
        return concat(t_3)
    context.exported_vars.add('tag_list')
    context.vars['tag_list'] = l_0_tag_list = Macro(environment, macro, 'tag_list', ('tags',), False, False, False, context.eval_ctx.autoescape)
    yield '\n'
    def macro(l_1_post):
        t_4 = []
        if l_1_post is missing:
            l_1_post = undefined("parameter 'post' was not provided", name='post')
        pass
        l_2_loop = missing
        for l_2_author, l_2_loop in LoopContext(environment.getattr(l_1_post, 'authors'), undefined):
            l_2_link = resolve('link')
            _loop_vars = {}
            pass
            if (not environment.getattr(l_2_loop, 'first')):
                pass
                t_4.append(
                    escape((' and ' if environment.getattr(l_2_loop, 'last') else ', ')),
                )
            t_4.extend((
                '<a href="',
                escape(context.call((undefined(name='link') if l_2_link is missing else l_2_link), markup_join(('/authors/', environment.getattr(l_2_author, 'slug'), )), _loop_vars=_loop_vars)),
                '" rel="author">',
                escape(environment.getattr(l_2_author, 'name')),
                '</a>',
            ))
        l_2_loop = l_2_author = l_2_link = missing
        return concat(t_4)
    context.exported_vars.add('authors_of')
    context.vars['authors_of'] = l_0_authors_of = Macro(environment, macro, 'authors_of', ('post',), False, False, False, context.eval_ctx.autoescape)
    yield '\n'
    def macro(l_1_post):
        t_5 = []
        if l_1_post is missing:
            l_1_post = undefined("parameter 'post' was not provided", name='post')
        pass
        t_5.extend((
            '<time datetime="',
            escape(t_2(environment.getattr(l_1_post, 'date'), environment.getattr(l_1_post, 'date_offset'))),
            '">',
            escape(t_1(environment.getattr(l_1_post, 'date'), environment.getattr(l_1_post, 'date_offset'))),
            '</time>',
        ))
        return concat(t_5)
    context.exported_vars.add('published')
    context.vars['published'] = l_0_published = Macro(environment, macro, 'published', ('post',), False, False, False, context.eval_ctx.autoescape)
    yield '\n'
    def macro(l_1_post):
        t_6 = []
        if l_1_post is missing:
            l_1_post = undefined("parameter 'post' was not provided", name='post')
        pass
        t_6.extend((
            '<p class="meta">',
            escape(context.call((undefined(name='published') if l_0_published is missing else l_0_published), l_1_post)),
        ))
        if environment.getattr(l_1_post, 'authors'):
            pass
            t_6.extend((
                ' · ',
                escape(context.call((undefined(name='authors_of') if l_0_authors_of is missing else l_0_authors_of), l_1_post)),
            ))
        t_6.extend((
            ' · ',
            escape(environment.getattr(l_1_post, 'reading_minutes')),
            ' min read</p>\n',
        ))
        return concat(t_6)
    context.exported_vars.add('post_meta')
    context.vars['post_meta'] = l_0_post_meta = Macro(environment, macro, 'post_meta', ('post',), False, False, False, context.eval_ctx.autoescape)
    yield '\n'
    def macro(l_1_posts):
        t_7 = []
        if l_1_posts is missing:
            l_1_posts = undefined("parameter 'posts' was not provided", name='posts')
        pass
        t_7.append(
            '<ol class="post-list">\n',
        )
        for l_2_post in l_1_posts:
            _loop_vars = {}
            pass
            t_7.extend((
                '  <li>\n    <article class="post-summary">\n      <h2><a href="',
                escape(environment.getattr(l_2_post, 'path')),
                '">',
                escape(environment.getattr(l_2_post, 'title')),
                '</a></h2>\n      ',
                escape(context.call((undefined(name='post_meta') if l_0_post_meta is missing else l_0_post_meta), l_2_post, _loop_vars=_loop_vars)),
                '\n',
            ))
            if environment.getattr(l_2_post, 'summary'):
                pass
                t_7.extend((
                    '<p>',
                    escape(environment.getattr(l_2_post, 'summary')),
                    '</p>',
                ))
            t_7.extend((
                '      ',
                escape(context.call((undefined(name='tag_list') if l_0_tag_list is missing else l_0_tag_list), environment.getattr(l_2_post, 'tags'), _loop_vars=_loop_vars)),
                '\n    </article>\n  </li>\n',
            ))
        l_2_post = missing
        t_7.append(
            '</ol>\n',
        )
        return concat(t_7)
    context.exported_vars.add('post_list')
    context.vars['post_list'] = l_0_post_list = Macro(environment, macro, 'post_list', ('posts',), False, False, False, context.eval_ctx.autoescape)
    yield '\n'
    def macro(l_1_paging):
        t_8 = []
        if l_1_paging is missing:
            l_1_paging = undefined("parameter 'paging' was not provided", name='paging')
        pass
        if (environment.getattr(l_1_paging, 'newer') or environment.getattr(l_1_paging, 'older')):
            pass
            t_8.append(
                '<nav class="pager" aria-label="Pages">\n',
            )
            if environment.getattr(l_1_paging, 'newer'):
                pass
                t_8.extend((
                    '<a class="newer" rel="prev" href="',
                    escape(environment.getattr(environment.getattr(l_1_paging, 'newer'), 'path')),
                    '">← Newer posts</a>',
                ))
            if environment.getattr(l_1_paging, 'number'):
                pass
                t_8.append(
                    '  <ol class="pages">\n',
                )
                if environment.getattr(l_1_paging, 'first'):
                    pass
                    t_8.extend((
                        '<li><a href="',
                        escape(environment.getattr(l_1_paging, 'first')),
                        '"><span class="visually-hidden">Page </span>1</a></li>',
                    ))
                    if (environment.getattr(l_1_paging, 'number') > 3):
                        pass
                        t_8.append(
                            '<li aria-hidden="true">…</li>',
                        )
                if (environment.getattr(l_1_paging, 'newer') and environment.getattr(environment.getattr(l_1_paging, 'newer'), 'number')):
                    pass
                    t_8.extend((
                        '<li><a href="',
                        escape(environment.getattr(environment.getattr(l_1_paging, 'newer'), 'path')),
                        '"><span class="visually-hidden">Page </span>',
                        escape(environment.getattr(environment.getattr(l_1_paging, 'newer'), 'number')),
                        '</a></li>',
                    ))
                t_8.extend((
                    '    <li><span aria-current="page"><span class="visually-hidden">Page </span>',
                    escape(environment.getattr(l_1_paging, 'number')),
                    '</span></li>\n',
                ))
                if (environment.getattr(l_1_paging, 'older') and environment.getattr(environment.getattr(l_1_paging, 'older'), 'number')):
                    pass
                    t_8.extend((
                        '<li><a href="',
                        escape(environment.getattr(environment.getattr(l_1_paging, 'older'), 'path')),
                        '"><span class="visually-hidden">Page </span>',
                        escape(environment.getattr(environment.getattr(l_1_paging, 'older'), 'number')),
                        '</a></li>',
                    ))
                t_8.append(
                    '  </ol>\n',
                )
            if environment.getattr(l_1_paging, 'older'):
                pass
                t_8.extend((
                    '<a class="older" rel="next" href="',
                    escape(environment.getattr(environment.getattr(l_1_paging, 'older'), 'path')),
                    '">Older posts →</a>',
                ))
            t_8.append(
                '</nav>\n',
            )
        return concat(t_8)
    context.exported_vars.add('pager')
    context.vars['pager'] = l_0_pager = Macro(environment, macro, 'pager', ('paging',), False, False, False, context.eval_ctx.autoescape)
    yield '\n'
    def macro(l_1_paging):
        t_9 = []
        if l_1_paging is missing:
            l_1_paging = undefined("parameter 'paging' was not provided", name='paging')
        pass
        if (environment.getattr(l_1_paging, 'number') and (environment.getattr(l_1_paging, 'number') > 1)):
            pass
            t_9.extend((
                ' · page ',
                escape(environment.getattr(l_1_paging, 'number')),
            ))
        elif (not environment.getattr(l_1_paging, 'is_first')):
            pass
            t_9.append(
                ' · older posts',
            )
        return concat(t_9)
    context.exported_vars.add('page_suffix')
    context.vars['page_suffix'] = l_0_page_suffix = Macro(environment, macro, 'page_suffix', ('paging',), False, False, False, context.eval_ctx.autoescape)

blocks = {}
debug_info = '1=24&2=29&4=34&9=53&10=59&13=80&14=87&17=96&18=103&21=120&23=128&26=133&27=137&28=140&29=149&37=160&38=165&40=170&41=177&43=182&44=194&45=205&46=208&49=220&54=234'
# Generated from chalicelib/templates/_post_list.html by `make templates`; do not edit.
SOURCE_DIGEST = 'ddfbc632a27c35c5b06082b70d4f53e82d18756350b89118f4794d031d025090'
