# Settings for publishing: these win over pelicanconf.py.
import os
import sys
sys.path.append(os.curdir)
from pelicanconf import *

SITEURL = 'https://tinker.example.com'
RELATIVE_URLS = False
FEED_ALL_ATOM = 'feeds/all.atom.xml'
