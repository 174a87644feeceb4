//! secviz-portal is the web application: accounts, posts, comments, gallery, feeds and the JSON API.
