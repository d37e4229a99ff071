-- Generated from the Alembic migrations by `python -m mlflowx.store.sql.schema`; do not edit.
CREATE TABLE alembic_version (
	version_num VARCHAR(32) NOT NULL, 
	CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
);
CREATE TABLE experiments (
	experiment_id INTEGER NOT NULL, 
	name VARCHAR(500) NOT NULL, 
	artifact_location VARCHAR(2000), 
	lifecycle_stage VARCHAR(32) NOT NULL, 
	creation_time BIGINT, 
	last_update_time BIGINT, 
	PRIMARY KEY (experiment_id), 
	UNIQUE (name)
);
CREATE TABLE datasets (
	dataset_uuid VARCHAR(36) NOT NULL, 
	experiment_id INTEGER NOT NULL, 
	name VARCHAR(500) NOT NULL, 
	digest VARCHAR(36) NOT NULL, 
	dataset_source_type VARCHAR(36) NOT NULL, 
	dataset_source TEXT NOT NULL, 
	dataset_schema TEXT, 
	dataset_profile TEXT, 
	PRIMARY KEY (dataset_uuid), 
	FOREIGN KEY(experiment_id) REFERENCES experiments (experiment_id), 
	CONSTRAINT uq_datasets_experiment_name_digest UNIQUE (experiment_id, name, digest)
);
CREATE TABLE runs (
	run_uuid VARCHAR(32) NOT NULL, 
	name VARCHAR(250), 
	experiment_id INTEGER NOT NULL, 
	user_id VARCHAR(256), 
	status VARCHAR(20) NOT NULL, 
	start_time BIGINT, 
	end_time BIGINT, 
	deleted_time BIGINT, 
	lifecycle_stage VARCHAR(20) NOT NULL, 
	artifact_uri VARCHAR(2000), 
	PRIMARY KEY (run_uuid), 
	FOREIGN KEY(experiment_id) REFERENCES experiments (experiment_id)
);
CREATE INDEX ix_runs_experiment_stage_start ON runs (experiment_id, lifecycle_stage, start_time);
CREATE TABLE inputs (
	input_uuid VARCHAR(36) NOT NULL, 
	run_uuid VARCHAR(32) NOT NULL, 
	dataset_uuid VARCHAR(36) NOT NULL, 
	PRIMARY KEY (input_uuid), 
	FOREIGN KEY(dataset_uuid) REFERENCES datasets (dataset_uuid), 
	FOREIGN KEY(run_uuid) REFERENCES runs (run_uuid), 
	CONSTRAINT uq_inputs_run_dataset UNIQUE (run_uuid, dataset_uuid)
);
CREATE INDEX ix_inputs_run_uuid ON inputs (run_uuid);
CREATE TABLE latest_metrics (
	run_uuid VARCHAR(32) NOT NULL, 
	"key" VARCHAR(250) NOT NULL, 
	value FLOAT NOT NULL, 
	timestamp BIGINT NOT NULL, 
	step BIGINT NOT NULL, 
	is_nan BOOLEAN NOT NULL, 
	PRIMARY KEY (run_uuid, "key"), 
	FOREIGN KEY(run_uuid) REFERENCES runs (run_uuid)
)
 WITHOUT ROWID;
CREATE INDEX ix_latest_metrics_key_value ON latest_metrics ("key", value);
CREATE TABLE metrics (
	run_uuid VARCHAR(32) NOT NULL, 
	"key" VARCHAR(250) NOT NULL, 
	value FLOAT NOT NULL, 
	timestamp BIGINT NOT NULL, 
	step BIGINT NOT NULL, 
	is_nan BOOLEAN NOT NULL, 
	PRIMARY KEY (run_uuid, "key", step, timestamp, value, is_nan), 
	FOREIGN KEY(run_uuid) REFERENCES runs (run_uuid)
)
 WITHOUT ROWID;
CREATE TABLE params (
	run_uuid VARCHAR(32) NOT NULL, 
	"key" VARCHAR(250) NOT NULL, 
	value VARCHAR(6000) NOT NULL, 
	PRIMARY KEY (run_uuid, "key"), 
	FOREIGN KEY(run_uuid) REFERENCES runs (run_uuid)
)
 WITHOUT ROWID;
CREATE TABLE tags (
	run_uuid VARCHAR(32) NOT NULL, 
	"key" VARCHAR(250) NOT NULL, 
	value VARCHAR(8000), 
	PRIMARY KEY (run_uuid, "key"), 
	FOREIGN KEY(run_uuid) REFERENCES runs (run_uuid)
)
 WITHOUT ROWID;
CREATE TABLE input_tags (
	input_uuid VARCHAR(36) NOT NULL, 
	"key" VARCHAR(255) NOT NULL, 
	value VARCHAR(500) NOT NULL, 
	PRIMARY KEY (input_uuid, "key"), 
	FOREIGN KEY(input_uuid) REFERENCES inputs (input_uuid)
);
CREATE TABLE logged_models (
	model_id VARCHAR(40) NOT NULL, 
	experiment_id INTEGER NOT NULL, 
	name VARCHAR(500) NOT NULL, 
	artifact_location VARCHAR(2000) NOT NULL, 
	creation_timestamp_ms BIGINT NOT NULL, 
	last_updated_timestamp_ms BIGINT NOT NULL, 
	status VARCHAR(40) NOT NULL, 
	lifecycle_stage VARCHAR(32) NOT NULL, 
	model_type VARCHAR(500), 
	source_run_id VARCHAR(32), 
	status_message VARCHAR(1000), 
	PRIMARY KEY (model_id), 
	FOREIGN KEY(experiment_id) REFERENCES experiments (experiment_id)
);
CREATE INDEX ix_logged_models_experiment_name ON logged_models (experiment_id, name);
CREATE INDEX ix_logged_models_source_run_id ON logged_models (source_run_id);
CREATE TABLE logged_model_params (
	model_id VARCHAR(40) NOT NULL, 
	"key" VARCHAR(250) NOT NULL, 
	value VARCHAR(6000) NOT NULL, 
	PRIMARY KEY (model_id, "key"), 
	FOREIGN KEY(model_id) REFERENCES logged_models (model_id)
);
CREATE TABLE logged_model_tags (
	model_id VARCHAR(40) NOT NULL, 
	"key" VARCHAR(250) NOT NULL, 
	value VARCHAR(8000) NOT NULL, 
	PRIMARY KEY (model_id, "key"), 
	FOREIGN KEY(model_id) REFERENCES logged_models (model_id)
);
CREATE TABLE model_outputs (
	run_uuid VARCHAR(32) NOT NULL, 
	model_id VARCHAR(40) NOT NULL, 
	step BIGINT NOT NULL, 
	PRIMARY KEY (run_uuid, model_id), 
	FOREIGN KEY(model_id) REFERENCES logged_models (model_id), 
	FOREIGN KEY(run_uuid) REFERENCES runs (run_uuid)
);
CREATE TABLE registered_models (
	name VARCHAR(256) NOT NULL, 
	creation_time BIGINT NOT NULL, 
	last_updated_time BIGINT NOT NULL, 
	description TEXT, 
	PRIMARY KEY (name)
);
CREATE TABLE registered_model_tags (
	name VARCHAR(256) NOT NULL, 
	"key" VARCHAR(250) NOT NULL, 
	value TEXT, 
	PRIMARY KEY (name, "key"), 
	FOREIGN KEY(name) REFERENCES registered_models (name) ON DELETE CASCADE ON UPDATE CASCADE
);
CREATE TABLE registered_model_aliases (
	name VARCHAR(256) NOT NULL, 
	alias VARCHAR(256) NOT NULL, 
	version INTEGER NOT NULL, 
	PRIMARY KEY (name, alias), 
	FOREIGN KEY(name) REFERENCES registered_models (name) ON DELETE CASCADE ON UPDATE CASCADE
);
CREATE TABLE model_versions (
	name VARCHAR(256) NOT NULL, 
	version INTEGER NOT NULL, 
	creation_time BIGINT NOT NULL, 
	last_updated_time BIGINT NOT NULL, 
	description TEXT, 
	user_id VARCHAR(256), 
	current_stage VARCHAR(20) NOT NULL, 
	source VARCHAR(2000), 
	storage_location VARCHAR(2000), 
	run_id VARCHAR(32), 
	run_link VARCHAR(2000), 
	status VARCHAR(20) NOT NULL, 
	status_message VARCHAR(500), 
	model_id VARCHAR(40), 
	PRIMARY KEY (name, version), 
	FOREIGN KEY(name) REFERENCES registered_models (name) ON DELETE CASCADE ON UPDATE CASCADE
);
CREATE INDEX ix_model_versions_run_id ON model_versions (run_id);
CREATE TABLE model_version_tags (
	name VARCHAR(256) NOT NULL, 
	version INTEGER NOT NULL, 
	"key" VARCHAR(250) NOT NULL, 
	value TEXT, 
	PRIMARY KEY (name, version, "key"), 
	FOREIGN KEY(name, version) REFERENCES model_versions (name, version) ON DELETE CASCADE ON UPDATE CASCADE
);
CREATE INDEX ix_tags_parent_run_id ON tags (value) WHERE key = 'mlflow.parentRunId';
CREATE TABLE auth_users (
	id INTEGER NOT NULL, 
	username VARCHAR(255) NOT NULL, 
	password_hash VARCHAR(255) NOT NULL, 
	is_admin BOOLEAN NOT NULL, 
	creation_time BIGINT NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (username)
);
CREATE TABLE auth_tokens (
	id INTEGER NOT NULL, 
	user_id INTEGER NOT NULL, 
	name VARCHAR(255) NOT NULL, 
	token_hash VARCHAR(64) NOT NULL, 
	creation_time BIGINT NOT NULL, 
	expiry_time BIGINT, 
	PRIMARY KEY (id), 
	FOREIGN KEY(user_id) REFERENCES auth_users (id) ON DELETE CASCADE, 
	UNIQUE (token_hash)
);
CREATE INDEX ix_auth_tokens_user_id ON auth_tokens (user_id);
CREATE TABLE auth_experiment_permissions (
	experiment_id INTEGER NOT NULL, 
	user_id INTEGER NOT NULL, 
	permission VARCHAR(32) NOT NULL, 
	PRIMARY KEY (experiment_id, user_id), 
	FOREIGN KEY(user_id) REFERENCES auth_users (id) ON DELETE CASCADE, 
	FOREIGN KEY(experiment_id) REFERENCES experiments (experiment_id) ON DELETE CASCADE
);
CREATE TABLE auth_registered_model_permissions (
	name VARCHAR(256) NOT NULL, 
	user_id INTEGER NOT NULL, 
	permission VARCHAR(32) NOT NULL, 
	PRIMARY KEY (name, user_id), 
	FOREIGN KEY(user_id) REFERENCES auth_users (id) ON DELETE CASCADE, 
	FOREIGN KEY(name) REFERENCES registered_models (name) ON DELETE CASCADE ON UPDATE CASCADE
);
CREATE TABLE logged_model_metrics (
	model_id VARCHAR(40) NOT NULL, 
	metric_name VARCHAR(500) NOT NULL, 
	metric_timestamp_ms BIGINT NOT NULL, 
	metric_step BIGINT NOT NULL, 
	metric_value FLOAT, 
	experiment_id INTEGER NOT NULL, 
	run_id VARCHAR(32) NOT NULL, 
	dataset_name VARCHAR(500), 
	dataset_digest VARCHAR(36), 
	PRIMARY KEY (model_id, metric_name, metric_timestamp_ms, metric_step, run_id), 
	FOREIGN KEY(model_id) REFERENCES logged_models (model_id) ON DELETE CASCADE, 
	FOREIGN KEY(experiment_id) REFERENCES experiments (experiment_id), 
	FOREIGN KEY(run_id) REFERENCES runs (run_uuid) ON DELETE CASCADE
);
CREATE TABLE model_inputs (
	run_uuid VARCHAR(32) NOT NULL, 
	model_id VARCHAR(40) NOT NULL, 
	PRIMARY KEY (run_uuid, model_id), 
	FOREIGN KEY(run_uuid) REFERENCES runs (run_uuid)
);
CREATE INDEX ix_model_inputs_model_id ON model_inputs (model_id);
CREATE INDEX ix_params_key_value ON params ("key", value);
CREATE INDEX ix_tags_key_value ON tags ("key", value);
CREATE TABLE "experiment_tags" (
	experiment_id INTEGER NOT NULL, 
	"key" VARCHAR(250) NOT NULL, 
	value VARCHAR(20000), 
	PRIMARY KEY (experiment_id, "key"), 
	FOREIGN KEY(experiment_id) REFERENCES experiments (experiment_id)
);
CREATE INDEX ix_runs_experiment_stage_end ON runs (experiment_id, lifecycle_stage, end_time, start_time);
CREATE INDEX ix_runs_experiment_stage_name ON runs (experiment_id, lifecycle_stage, name, start_time);
CREATE INDEX ix_runs_experiment_stage_status ON runs (experiment_id, lifecycle_stage, status, start_time);
CREATE TABLE metric_step_blocks (
	run_uuid VARCHAR(32) NOT NULL, 
	"key" VARCHAR(250) NOT NULL, 
	step_block BIGINT NOT NULL, 
	points BIGINT NOT NULL, 
	PRIMARY KEY (run_uuid, "key", step_block), 
	FOREIGN KEY(run_uuid) REFERENCES runs (run_uuid)
)
 WITHOUT ROWID;
INSERT INTO alembic_version (version_num) VALUES ('0009_metric_step_blocks');
