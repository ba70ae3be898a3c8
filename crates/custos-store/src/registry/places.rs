//! Places and residences (B1–B3).

use super::*;

impl Store {
    pub async fn upsert_place(&self, p: &PlaceRow) -> Result<()> {
        self.upsert_places(std::slice::from_ref(p)).await
    }

    /// As [`Store::upsert_place`], many in one transaction.
    pub async fn upsert_places(&self, all: &[PlaceRow]) -> Result<()> {
        let mut tx = self
            .pool
            .begin()
            .await
            .map_err(|e| db_err("beginning places", e))?;
        for p in all {
            sqlx::query(
            "INSERT INTO reg_place (id, name, category, anti_terror_key_target, polygon)
             VALUES (?, ?, ?, ?, ?)
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, category = excluded.category,
                anti_terror_key_target = excluded.anti_terror_key_target, polygon = excluded.polygon",
        )
        .bind(&p.id)
        .bind(&p.name)
        .bind(&p.category)
        .bind(p.anti_terror_key_target)
        .bind(&p.polygon)
        .execute(&mut *tx)
        .await
        .map_err(|e| db_err("saving place", e))?;
        }
        tx.commit()
            .await
            .map_err(|e| db_err("committing places", e))?;
        Ok(())
    }

    pub async fn places(&self) -> Result<Vec<PlaceRow>> {
        sqlx::query_as::<_, PlaceRow>(
            "SELECT id, name, category, anti_terror_key_target, polygon FROM reg_place ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(|e| db_err("listing places", e))
    }

    pub async fn upsert_residence(&self, p: &ResidenceRow) -> Result<()> {
        sqlx::query(
            "INSERT INTO reg_residence (id, name, polygon) VALUES (?, ?, ?)
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, polygon = excluded.polygon",
        )
        .bind(&p.id)
        .bind(&p.name)
        .bind(&p.polygon)
        .execute(&self.pool)
        .await
        .map_err(|e| db_err("saving residence", e))?;
        Ok(())
    }

    pub async fn residences(&self) -> Result<Vec<ResidenceRow>> {
        sqlx::query_as::<_, ResidenceRow>("SELECT id, name, polygon FROM reg_residence ORDER BY id")
            .fetch_all(&self.pool)
            .await
            .map_err(|e| db_err("listing residences", e))
    }
}
