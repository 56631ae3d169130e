//! The vendor's measure units and their conversions.

use axum::{
    extract::{Path, State},
    http::StatusCode,
    Json,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    db::catalogue::{ConversionRow, MeasureUnitRow},
    error::{ApiError, ApiResult},
    http::{extract::ApiJson, ErrorBody},
    service::catalogue::{self as svc},
    state::AppState,
};

use super::name_field;

// ---------------------------------------------------------------------------------------------
// Measure units and conversions

#[derive(Debug, Deserialize, ToSchema)]
pub struct MeasureUnitFields {
    pub name_zh: String,
    pub name_en: String,
    pub abbreviation: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateMeasureUnitRequest {
    /// 1–2147483647.
    pub measure_id: i32,
    pub name_zh: String,
    pub name_en: String,
    pub abbreviation: String,
    /// 1 currency, 2 duration, 3 data size, 4 count, 5 capacity × time, or another positive type.
    pub measure_type: i32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MeasureUnitAdmin {
    pub measure_id: i32,
    pub name_zh: String,
    pub name_en: String,
    pub abbreviation: String,
    pub measure_type: i32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MeasureUnitAdminList {
    pub measure_units: Vec<MeasureUnitAdmin>,
}

fn measure_unit_view(r: MeasureUnitRow) -> MeasureUnitAdmin {
    MeasureUnitAdmin {
        measure_id: r.measure_id,
        name_zh: r.name_zh,
        name_en: r.name_en,
        abbreviation: r.abbreviation,
        measure_type: r.measure_type,
    }
}

fn measure_unit_row(
    measure_id: i32,
    measure_type: i32,
    f: MeasureUnitFields,
) -> Result<MeasureUnitRow, ApiError> {
    if measure_id < 1 {
        return Err(ApiError::invalid("measure_id", "must be at least 1"));
    }
    if measure_type < 1 {
        return Err(ApiError::invalid("measure_type", "must be at least 1"));
    }
    name_field("name_zh", &f.name_zh, 64)?;
    name_field("name_en", &f.name_en, 64)?;
    name_field("abbreviation", &f.abbreviation, 32)?;
    Ok(MeasureUnitRow {
        measure_id,
        name_zh: f.name_zh,
        name_en: f.name_en,
        abbreviation: f.abbreviation,
        measure_type,
    })
}

/// Add a measure unit.
#[utoipa::path(post, path = "/admin/v1/measure-units", tag = "admin",
    request_body = CreateMeasureUnitRequest,
    responses((status = 201, body = MeasureUnitAdmin), (status = "4XX", body = ErrorBody)),
    security(("admin" = [])))]
pub async fn create_measure_unit(
    State(app): State<AppState>,
    ApiJson(req): ApiJson<CreateMeasureUnitRequest>,
) -> ApiResult<(StatusCode, Json<MeasureUnitAdmin>)> {
    let row = measure_unit_row(
        req.measure_id,
        req.measure_type,
        MeasureUnitFields {
            name_zh: req.name_zh,
            name_en: req.name_en,
            abbreviation: req.abbreviation,
        },
    )?;
    let row = svc::put_measure_unit(&app, row, false).await?;
    Ok((StatusCode::CREATED, Json(measure_unit_view(row))))
}

/// Rename a measure unit (its measure type is fixed).
#[utoipa::path(put, path = "/admin/v1/measure-units/{measure_id}", tag = "admin",
    params(("measure_id" = i32, Path)), request_body = MeasureUnitFields,
    responses((status = 200, body = MeasureUnitAdmin), (status = "4XX", body = ErrorBody)),
    security(("admin" = [])))]
pub async fn update_measure_unit(
    State(app): State<AppState>,
    Path(measure_id): Path<i32>,
    ApiJson(req): ApiJson<MeasureUnitFields>,
) -> ApiResult<Json<MeasureUnitAdmin>> {
    // The stored type is kept; 1 only passes validation.
    let row = measure_unit_row(measure_id, 1, req)?;
    Ok(Json(measure_unit_view(
        svc::put_measure_unit(&app, row, true).await?,
    )))
}

/// List measure units with both names.
#[utoipa::path(get, path = "/admin/v1/measure-units", tag = "admin", operation_id = "admin_list_measure_units",
    responses((status = 200, body = MeasureUnitAdminList), (status = "4XX", body = ErrorBody)),
    security(("admin" = [])))]
pub async fn list_measure_units(
    State(app): State<AppState>,
) -> ApiResult<Json<MeasureUnitAdminList>> {
    Ok(Json(MeasureUnitAdminList {
        measure_units: svc::list_measure_units(&app)
            .await?
            .into_iter()
            .map(measure_unit_view)
            .collect(),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateConversionRequest {
    /// `1 measure_id = conversion_ratio ref_measure_id`; both of one measure type.
    pub measure_id: i32,
    pub ref_measure_id: i32,
    /// ≥ 1.
    pub conversion_ratio: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct UpdateConversionRequest {
    pub conversion_ratio: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConversionAdmin {
    pub measure_id: i32,
    pub ref_measure_id: i32,
    pub conversion_ratio: i64,
    pub measure_type: i32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConversionAdminList {
    pub conversions: Vec<ConversionAdmin>,
}

fn conversion_view(r: ConversionRow) -> ConversionAdmin {
    ConversionAdmin {
        measure_id: r.measure_id,
        ref_measure_id: r.ref_measure_id,
        conversion_ratio: r.conversion_ratio,
        measure_type: r.measure_type,
    }
}

fn conversion_row(
    measure_id: i32,
    ref_measure_id: i32,
    ratio: i64,
) -> Result<ConversionRow, ApiError> {
    if ratio < 1 {
        return Err(ApiError::invalid("conversion_ratio", "must be at least 1"));
    }
    if measure_id == ref_measure_id {
        return Err(ApiError::invalid(
            "ref_measure_id",
            "must differ from measure_id",
        ));
    }
    Ok(ConversionRow {
        measure_id,
        ref_measure_id,
        conversion_ratio: ratio,
        measure_type: 0,
    })
}

/// Add a conversion between two units of one measure type that do not convert yet.
#[utoipa::path(post, path = "/admin/v1/conversions", tag = "admin",
    request_body = CreateConversionRequest,
    responses((status = 201, body = ConversionAdmin), (status = "4XX", body = ErrorBody)),
    security(("admin" = [])))]
pub async fn create_conversion(
    State(app): State<AppState>,
    ApiJson(req): ApiJson<CreateConversionRequest>,
) -> ApiResult<(StatusCode, Json<ConversionAdmin>)> {
    let row = conversion_row(req.measure_id, req.ref_measure_id, req.conversion_ratio)?;
    let row = svc::put_conversion(&app, row, false).await?;
    Ok((StatusCode::CREATED, Json(conversion_view(row))))
}

/// Change a conversion's ratio.
#[utoipa::path(put, path = "/admin/v1/conversions/{measure_id}/{ref_measure_id}", tag = "admin",
    params(("measure_id" = i32, Path), ("ref_measure_id" = i32, Path)),
    request_body = UpdateConversionRequest,
    responses((status = 200, body = ConversionAdmin), (status = "4XX", body = ErrorBody)),
    security(("admin" = [])))]
pub async fn update_conversion(
    State(app): State<AppState>,
    Path((measure_id, ref_measure_id)): Path<(i32, i32)>,
    ApiJson(req): ApiJson<UpdateConversionRequest>,
) -> ApiResult<Json<ConversionAdmin>> {
    let row = conversion_row(measure_id, ref_measure_id, req.conversion_ratio)?;
    Ok(Json(conversion_view(
        svc::put_conversion(&app, row, true).await?,
    )))
}

/// List every conversion.
#[utoipa::path(get, path = "/admin/v1/conversions", tag = "admin", operation_id = "admin_list_conversions",
    responses((status = 200, body = ConversionAdminList), (status = "4XX", body = ErrorBody)),
    security(("admin" = [])))]
pub async fn list_conversions(State(app): State<AppState>) -> ApiResult<Json<ConversionAdminList>> {
    Ok(Json(ConversionAdminList {
        conversions: svc::list_conversions(&app, None)
            .await?
            .into_iter()
            .map(conversion_view)
            .collect(),
    }))
}
