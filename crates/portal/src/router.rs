//! Every route of the portal, in one table. Handlers live one action per file in `handlers/`.
//! Layers, outermost first: request id and error page → panic catcher → security headers →
//! body timeouts (408 for a body that comes too slowly) → Origin check → visitor (session) →
//! anonymous page cache → handler.

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::{Router, middleware};
use tower_http::catch_panic::CatchPanicLayer;

use crate::handlers::*;
use crate::state::AppState;
use crate::web::{api_limits, body_timeout, cache, headers, too_large, visitor};

/// Largest body of an account form (log-in, sign-up, reset, password and email change).
const ACCOUNT_FORM_BODY: usize = 16 * 1024;

/// Largest body of a route that says nothing else.
const DEFAULT_BODY: usize = 256 * 1024;

fn small_form() -> DefaultBodyLimit {
    DefaultBodyLimit::max(ACCOUNT_FORM_BODY)
}

pub fn build(state: AppState) -> Router {
    // Room for a full set of new images plus the text fields.
    let post_body_limit = state.config.max_image_bytes * (post_form::NEW_SLOTS + 1) + (1 << 20);
    // Add Post may also carry a log file (streamed to disk) and pasted lines; a little more
    // than the cap, so an upload just over it is read to the end and gets a clear 413.
    let data_body_limit = post_body_limit
        + usize::try_from(state.config.max_upload_bytes).unwrap_or(usize::MAX / 2)
        + state.config.max_paste_bytes
        + (1 << 20);
    let q = &state.config.queries;
    let views_api = secviz_viewer::router(
        secviz_viewer::ViewsState::new(
            state.lake.clone(),
            crate::data::policy::PortalPolicy {
                db: state.db.clone(),
            },
            secviz_views::ViewSpec::linked_default(),
            state.executor.clone(),
        )
        .with_limits(secviz_views::Limits {
            time: q.time,
            memory: q.memory_per_job(),
            sandbox: true,
        })
        .with_export_limits(secviz_viewer::api::ExportLimits {
            time: q.export_time,
            bytes: q.export_bytes,
        }),
    )
    .layer(middleware::from_fn_with_state(
        state.clone(),
        api_limits::views_rate,
    ));
    Router::new()
        // Reading.
        .route("/", get(home::show))
        .route("/gallery", get(gallery::show))
        .route("/tags", get(tags_index::show))
        .route("/t/{slug}", get(tag_show::show))
        .route("/p/{id}", get(post_show::show))
        .route("/u/{name}", get(member_show::show))
        .route("/search", get(search::show))
        .route("/modlog", get(modlog::show))
        .route("/feed.atom", get(feeds::site))
        .route("/t/{slug}/feed.atom", get(feeds::tag))
        .route("/u/{name}/feed.atom", get(feeds::member))
        .route("/img/{id}", get(image_serve::full))
        .route("/img/{id}/thumb", get(image_serve::thumb))
        .route("/img/{id}/thumb-dark", get(image_serve::thumb_dark))
        .route("/static/style.css", get(static_files::style))
        .route("/static/favicon.svg", get(static_files::favicon))
        .route("/static/screen.css", get(static_files::screen_style))
        .route("/static/dashboard.js", get(static_files::dashboard_script))
        .route("/favicon.ico", get(static_files::favicon))
        .route("/healthz", get(static_files::health))
        // Accounts.
        // Account forms are a few short fields: a small body limit, so a flood of
        // megabyte-sized log-ins is refused before it is read.
        .route(
            "/signup",
            get(signup::form).post(signup::submit).layer(small_form()),
        )
        .route(
            "/login",
            get(login::form).post(login::submit).layer(small_form()),
        )
        .route("/logout", post(logout::submit).layer(small_form()))
        .route(
            "/reset",
            get(reset_request::form)
                .post(reset_request::submit)
                .layer(small_form()),
        )
        .route(
            "/reset/{token}",
            get(reset_confirm::form)
                .post(reset_confirm::submit)
                .layer(small_form()),
        )
        .route("/account", get(account::show))
        .route(
            "/account/password",
            post(account_password::submit).layer(small_form()),
        )
        .route(
            "/account/email",
            post(account_email::submit).layer(small_form()),
        )
        .route(
            "/account/tokens",
            post(account_tokens::create).layer(small_form()),
        )
        .route(
            "/account/tokens/{id}/revoke",
            post(account_tokens::revoke).layer(small_form()),
        )
        // Writing.
        .route(
            "/new",
            get(post_create::form)
                .post(post_create::submit)
                .layer(DefaultBodyLimit::max(data_body_limit)),
        )
        .route(
            "/p/{id}/edit",
            get(post_update::form)
                .post(post_update::submit)
                .layer(DefaultBodyLimit::max(post_body_limit)),
        )
        .route("/p/{id}/delete", post(post_delete::submit))
        // Data posts (issue 7).
        .route("/drafts", get(draft::list))
        .route("/drafts/{id}", get(draft::show).post(draft::submit))
        .route(
            "/drafts/{id}/data",
            post(draft::attach).layer(DefaultBodyLimit::max(data_body_limit)),
        )
        .route("/drafts/{id}/preview.svg", get(draft::preview))
        .route("/p/{id}/recipe.json", get(data_post::recipe))
        .route("/p/{id}/view.json", get(data_post::view_spec))
        .route("/p/{id}/rules.txt", get(data_post::rules))
        .route("/p/{id}/data.jsonl.gz", get(data_post::data))
        .route("/p/{id}/remix", post(data_post::remix))
        .route(
            "/api/v1/datasets/{id}/query",
            get(dataset_query::get).post(dataset_query::post),
        )
        .route(
            "/api/v1/live/{dataset}",
            post(live_ingest::post).layer(DefaultBodyLimit::max(live_ingest::MAX_BODY + 1)),
        )
        // Dashboards (issue 18).
        .route(
            "/dashboards",
            get(dashboard_list::show).post(dashboard_list::create),
        )
        .route("/dash/{id}", get(dashboard_show::show))
        .route("/dash/{id}/screen", get(dashboard_show::screen))
        .route("/dash/{id}/panels", get(dashboard_show::panels))
        .route("/dash/{id}/panels/{file}", get(dashboard_show::picture))
        .route("/dash/{id}/events", get(dashboard_show::events))
        .route("/dash/{id}/dashboard.json", get(dashboard_show::export))
        .route("/dash/{id}/spec", post(dashboard_edit::spec))
        .route(
            "/dash/{id}/add-panel",
            post(dashboard_edit::add_panel).layer(small_form()),
        )
        .route(
            "/dash/{id}/remove-panel",
            post(dashboard_edit::remove_panel).layer(small_form()),
        )
        .route(
            "/dash/{id}/visibility",
            post(dashboard_edit::visibility).layer(small_form()),
        )
        .route(
            "/dash/{id}/delete",
            post(dashboard_edit::delete).layer(small_form()),
        )
        .route(
            "/dash/{id}/remix",
            post(dashboard_edit::remix).layer(small_form()),
        )
        .route(
            "/dash/{id}/shares",
            post(dashboard_share::create).layer(small_form()),
        )
        .route(
            "/dash/{id}/shares/{sid}/revoke",
            post(dashboard_share::revoke).layer(small_form()),
        )
        .route("/s/{token}", get(dashboard_share::screen))
        .route("/s/{token}/panels", get(dashboard_share::panels))
        .route("/s/{token}/panels/{file}", get(dashboard_share::picture))
        .nest_service(data_post::API_ROOT, views_api)
        .nest_service(data_post::ASSETS, secviz_viewer::assets::router::<()>())
        .route("/p/{id}/comments", post(comment_create::submit))
        .route("/c/{id}", get(comment_show::show))
        .route(
            "/c/{id}/edit",
            get(comment_update::form).post(comment_update::submit),
        )
        .route("/c/{id}/delete", post(comment_delete::submit))
        // Moderation.
        .route("/p/{id}/hide", post(moderate::hide_post))
        .route("/p/{id}/unhide", post(moderate::unhide_post))
        .route("/c/{id}/hide", post(moderate::hide_comment))
        .route("/c/{id}/unhide", post(moderate::unhide_comment))
        // Administration.
        .route("/admin", get(admin::show))
        .route("/admin/tags", post(admin_tags::save))
        .route("/admin/tags/{slug}/delete", post(admin_tags::delete))
        .route("/admin/users/{name}/role", post(admin_roles::set))
        .fallback(static_files::not_found)
        // Every other body (comments, the SQL API, moderation): at most this; the routes
        // above that take files or long posts say more.
        .layer(DefaultBodyLimit::max(DEFAULT_BODY))
        .layer(middleware::from_fn(too_large::page))
        .layer(middleware::from_fn_with_state(state.clone(), cache::layer))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            visitor::layer,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            headers::origin_check,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            body_timeout::layer,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            headers::security_headers,
        ))
        // A panic becomes a 500 with the generic page instead of a dropped connection.
        .layer(CatchPanicLayer::custom(headers::panic_response))
        .layer(middleware::from_fn(headers::request_id))
        .with_state(state)
}
