from jinja2.runtime import LoopContext, Macro, Markup, Namespace, TemplateNotFound, TemplateReference, TemplateRuntimeError, Undefined, escape, identity, internalcode, markup_join, missing, str_join
name = 'preview.html'

def root(context, missing=missing):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    parent_template = None
    pass
    parent_template = environment.get_template('post.html', 'preview.html')
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
    l_0_post = resolve('post')
    l_0_site = resolve('site')
    pass
    yield 'Preview: '
    yield escape(environment.getattr((undefined(name='post') if l_0_post is missing else l_0_post), 'title'))
    yield ' · '
    yield escape(environment.getattr((undefined(name='site') if l_0_site is missing else l_0_site), 'title'))

def block_head_extra(context, missing=missing):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    l_0_super = context.super('head_extra', block_head_extra)
    _block_vars = {}
    pass
    yield '<meta name="robots" content="noindex, nofollow">\n'
    yield escape(context.call(l_0_super, _block_vars=_block_vars))

def block_content(context, missing=missing):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    l_0_super = context.super('content', block_content)
    _block_vars = {}
    l_0_preview = resolve('preview')
    l_0_link = resolve('link')
    l_0_post = resolve('post')
    try:
        t_1 = environment.filters['human_date']
    except KeyError:
        @internalcode
        def t_1(*unused):
            raise TemplateRuntimeError("No filter named 'human_date' found.")
    pass
    yield '<aside class="preview-note" role="note" aria-label="Preview">\n  <p><strong>Preview</strong> ·\n'
    if (environment.getattr((undefined(name='preview') if l_0_preview is missing else l_0_preview), 'status') == 'draft'):
        pass
        yield 'a draft: readers cannot see it until <code>draft: false</code> is uploaded.\n'
    elif (environment.getattr((undefined(name='preview') if l_0_preview is missing else l_0_preview), 'status') == 'scheduled'):
        pass
        yield 'scheduled: readers see it from <time datetime="'
        yield escape(environment.getattr((undefined(name='preview') if l_0_preview is missing else l_0_preview), 'visible_from'))
        yield '">'
        yield escape(t_1(environment.getattr((undefined(name='preview') if l_0_preview is missing else l_0_preview), 'visible_from')))
        yield '</time>.\n'
    elif (environment.getattr((undefined(name='preview') if l_0_preview is missing else l_0_preview), 'status') == 'published'):
        pass
        yield 'published: readers see this page at <a href="'
        yield escape(context.call((undefined(name='link') if l_0_link is missing else l_0_link), markup_join(('/posts/', environment.getattr((undefined(name='post') if l_0_post is missing else l_0_post), 'slug'), )), _block_vars=_block_vars))
        yield '">its address</a>.\n'
    elif (environment.getattr((undefined(name='preview') if l_0_preview is missing else l_0_preview), 'status') == 'expired'):
        pass
        yield 'expired: readers no longer see it.\n'
    else:
        pass
        yield 'the latest upload was rejected'
        if environment.getattr((undefined(name='preview') if l_0_preview is missing else l_0_preview), 'kept'):
            pass
            yield '; readers still see the last good version'
        else:
            pass
            yield '; nothing is online'
        yield '.\n'
    yield '  This link works until '
    yield escape(environment.getattr((undefined(name='preview') if l_0_preview is missing else l_0_preview), 'expires'))
    yield '.</p>\n'
    if environment.getattr((undefined(name='preview') if l_0_preview is missing else l_0_preview), 'problems'):
        pass
        yield '  <ul>'
        for l_1_problem in environment.getattr((undefined(name='preview') if l_0_preview is missing else l_0_preview), 'problems'):
            _loop_vars = {}
            pass
            yield '<li>'
            yield escape(l_1_problem)
            yield '</li>'
        l_1_problem = missing
        yield '</ul>\n  <p>Below is that upload as far as it can be shown.</p>\n'
    yield '</aside>\n'
    yield escape(context.call(l_0_super, _block_vars=_block_vars))
    yield '\n'

blocks = {'title': block_title, 'head_extra': block_head_extra, 'content': block_content}
debug_info = '1=12&2=17&3=32&4=42&5=44&8=63&9=66&10=73&11=78&12=84&14=92&15=94&16=97&20=106'
# Generated from chalicelib/templates/preview.html by `make templates`; do not edit.
SOURCE_DIGEST = 'eec2bb49418e624d18b0c54506f1efcf9cef5c2006715b17fa4e72ed8975fe6a'
