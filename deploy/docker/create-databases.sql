-- One database per service (each service owns its tables).
CREATE DATABASE scs_quota OWNER scs;
CREATE DATABASE scs_workload OWNER scs;
CREATE DATABASE scs_network OWNER scs;
CREATE DATABASE scs_storage OWNER scs;
CREATE DATABASE scs_gpu OWNER scs;
CREATE DATABASE scs_audit OWNER scs;
CREATE DATABASE scs_billing OWNER scs;
CREATE DATABASE scs_cluster OWNER scs;
CREATE DATABASE scs_config OWNER scs;
