from jinja2.runtime import LoopContext, Macro, Markup, Namespace, TemplateNotFound, TemplateReference, TemplateRuntimeError, Undefined, escape, identity, internalcode, markup_join, missing, str_join
name = 'base.html'

def root(context, missing=missing):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    l_0_self = TemplateReference(context)
    l_0_canonical = resolve('canonical')
    l_0_paging = resolve('paging')
    l_0_site = resolve('site')
    l_0_absolute = resolve('absolute')
    l_0_link = resolve('link')
    l_0_css_name = resolve('css_name')
    try:
        t_1 = environment.tests['defined']
    except KeyError:
        @internalcode
        def t_1(*unused):
            raise TemplateRuntimeError("No test named 'defined' found.")
    pass
    yield '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<meta name="viewport" content="width=device-width, initial-scale=1">\n<title>'
    yield from context.blocks['title'][0](context)
    yield '</title>\n<meta name="description" content="'
    yield from context.blocks['description'][0](context)
    yield '">\n'
    if (undefined(name='canonical') if l_0_canonical is missing else l_0_canonical):
        pass
        yield '<link rel="canonical" href="'
        yield escape((undefined(name='canonical') if l_0_canonical is missing else l_0_canonical))
        yield '">\n<meta property="og:url" content="'
        yield escape((undefined(name='canonical') if l_0_canonical is missing else l_0_canonical))
        yield '">\n'
    if t_1((undefined(name='paging') if l_0_paging is missing else l_0_paging)):
        pass
        if environment.getattr((undefined(name='paging') if l_0_paging is missing else l_0_paging), 'newer'):
            pass
            yield '<link rel="prev" href="'
            yield escape(environment.getattr(environment.getattr((undefined(name='paging') if l_0_paging is missing else l_0_paging), 'newer'), 'url'))
            yield '">\n'
        if environment.getattr((undefined(name='paging') if l_0_paging is missing else l_0_paging), 'older'):
            pass
            yield '<link rel="next" href="'
            yield escape(environment.getattr(environment.getattr((undefined(name='paging') if l_0_paging is missing else l_0_paging), 'older'), 'url'))
            yield '">\n'
    yield '<meta property="og:site_name" content="'
    yield escape(environment.getattr((undefined(name='site') if l_0_site is missing else l_0_site), 'title'))
    yield '">\n<meta property="og:title" content="'
    yield escape(context.call(environment.getattr(l_0_self, 'title')))
    yield '">\n<meta property="og:description" content="'
    yield escape(context.call(environment.getattr(l_0_self, 'description')))
    yield '">\n<meta property="og:type" content="'
    yield from context.blocks['og_type'][0](context)
    yield '">\n'
    yield from context.blocks['head_extra'][0](context)
    yield '<meta name="color-scheme" content="light dark">\n<link rel="alternate" type="application/atom+xml" title="'
    yield escape(environment.getattr((undefined(name='site') if l_0_site is missing else l_0_site), 'title'))
    yield '" href="'
    yield escape(context.call((undefined(name='absolute') if l_0_absolute is missing else l_0_absolute), '/feed.xml'))
    yield '">\n<link rel="stylesheet" href="'
    yield escape(context.call((undefined(name='link') if l_0_link is missing else l_0_link), markup_join(('/static/', (undefined(name='css_name') if l_0_css_name is missing else l_0_css_name), ))))
    yield '">\n<link rel="icon" href="data:,">\n</head>\n<body>\n<a class="skip" href="#content">Skip to content</a>\n<header class="site-header">\n  <div class="bar">\n    <a class="site-title" href="'
    yield escape(context.call((undefined(name='link') if l_0_link is missing else l_0_link), '/'))
    yield '">'
    yield escape(environment.getattr((undefined(name='site') if l_0_site is missing else l_0_site), 'title'))
    yield '</a>\n    <nav class="site-nav" aria-label="Site">\n      <ul>\n'
    for (l_1_key, l_1_label, l_1_path) in (('home', 'Home', '/'), ('tags', 'Tags', '/tags'), ('archive', 'Archive', '/archive'), ('feed', 'Feed', '/feed.xml')):
        l_1_section = resolve('section')
        l_1_exact = resolve('exact')
        _loop_vars = {}
        pass
        yield '        <li><a href="'
        yield escape(context.call((undefined(name='link') if l_0_link is missing else l_0_link), l_1_path, _loop_vars=_loop_vars))
        yield '"'
        if (t_1((undefined(name='section') if l_1_section is missing else l_1_section)) and ((undefined(name='section') if l_1_section is missing else l_1_section) == l_1_key)):
            pass
            yield ' class="current" aria-current="'
            yield escape(('page' if (t_1((undefined(name='exact') if l_1_exact is missing else l_1_exact)) and (undefined(name='exact') if l_1_exact is missing else l_1_exact)) else 'true'))
            yield '"'
        yield '>'
        yield escape(l_1_label)
        yield '</a></li>\n'
    l_1_key = l_1_label = l_1_path = l_1_section = l_1_exact = missing
    yield '      </ul>\n    </nav>\n    <form class="search-form" role="search" action="'
    yield escape(context.call((undefined(name='link') if l_0_link is missing else l_0_link), '/search'))
    yield '" method="get">\n      <label for="q" class="visually-hidden">Search the blog</label>\n      <input id="q" type="search" name="q" placeholder="Search" maxlength="500" value="'
    yield from context.blocks['query'][0](context)
    yield '">\n      <button type="submit">Search</button>\n    </form>\n  </div>\n</header>\n<main id="content">\n'
    yield from context.blocks['content'][0](context)
    yield '</main>\n<footer class="site-footer">\n  <p>'
    yield escape(environment.getattr((undefined(name='site') if l_0_site is missing else l_0_site), 'title'))
    yield ' · <a href="'
    yield escape(context.call((undefined(name='link') if l_0_link is missing else l_0_link), '/feed.xml'))
    yield '">Atom feed</a> · <a href="'
    yield escape(context.call((undefined(name='link') if l_0_link is missing else l_0_link), '/archive'))
    yield '">Archive</a> · <a href="'
    yield escape(context.call((undefined(name='link') if l_0_link is missing else l_0_link), '/tags'))
    yield '">Tags</a></p>\n</footer>\n</body>\n</html>'

def block_title(context, missing=missing):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    _block_vars = {}
    l_0_site = resolve('site')
    pass
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
    yield escape((environment.getattr((undefined(name='site') if l_0_site is missing else l_0_site), 'description') or environment.getattr((undefined(name='site') if l_0_site is missing else l_0_site), 'title')))

def block_og_type(context, missing=missing):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    _block_vars = {}
    pass
    yield 'website'

def block_head_extra(context, missing=missing):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    _block_vars = {}
    pass

def block_query(context, missing=missing):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    _block_vars = {}
    pass

def block_content(context, missing=missing):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    _block_vars = {}
    pass

blocks = {'title': block_title, 'description': block_description, 'og_type': block_og_type, 'head_extra': block_head_extra, 'query': block_query, 'content': block_content}
debug_info = '6=25&7=27&8=29&9=32&10=34&12=36&13=38&15=43&18=49&19=51&20=53&21=55&22=57&24=59&25=63&32=65&35=69&36=75&40=87&42=89&48=91&51=93&6=102&7=113&21=124&22=134&42=143&48=152'
# Generated from chalicelib/templates/base.html by `make templates`; do not edit.
SOURCE_DIGEST = '128bb895289cee679c8f6f133cca6583f4acac74a99af4c66b5b38b675490335'
