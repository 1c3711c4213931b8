//! The shop's catalogue queries, as the application runs them. The
//! workload in workloads/catalogue.toml replays the same statements, so the
//! design question is asked of the queries this crate really sends
//! (schemabench's tests/example_crate.rs checks that they match).

/// The cheapest products of a category (the category page).
pub const CHEAPEST_IN_CATEGORY: &str =
    "SELECT id, name, price FROM products WHERE category_id = $1 AND in_stock = 1 ORDER BY price, id LIMIT 24";

/// A product by its stock-keeping unit, as typed by staff (any case).
pub const PRODUCT_BY_SKU: &str = "SELECT id, name, price FROM products WHERE lower(sku) = lower($1)";

/// A price change from the back office.
pub const REPRICE: &str = "UPDATE products SET price = $2 WHERE id = $1";
