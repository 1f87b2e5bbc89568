# A small Pelican site for tests/test_import.py (written for this project).
AUTHOR = 'R. Tinker'
SITENAME = 'Tinkering'
SITEURL = ''

PATH = 'content'
TIMEZONE = 'Europe/Paris'
DEFAULT_LANG = 'en'

ARTICLE_URL = 'posts/{date:%Y}/{date:%m}/{slug}.html'
ARTICLE_SAVE_AS = ARTICLE_URL

STATIC_PATHS = ['images', 'extra/robots.txt']
EXTRA_PATH_METADATA = {'extra/robots.txt': {'path': 'robots.txt'}}

FEED_ALL_ATOM = None
DEFAULT_PAGINATION = 10
