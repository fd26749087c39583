# Airflow image with this provider installed from the checkout, for docker-compose.yaml
# (see docs/local-development.md).
#
#   docker compose build          # or: docker build -t airflow-provider-azureml:local .
#
# AIRFLOW_VERSION must equal the apache-airflow pin in constraints-3.11.txt (checked below and in
# tests/deploy), so that installing the provider does not upgrade or downgrade Airflow.
ARG AIRFLOW_VERSION=3.3.2
ARG PYTHON_VERSION=3.11
FROM apache/airflow:${AIRFLOW_VERSION}-python${PYTHON_VERSION}

# An ARG declared before FROM is not visible after it unless declared again.
ARG AIRFLOW_VERSION

# /state: state directory of the azureml-emulator service. A named volume mounted there starts with
# this ownership; group 0 and the setgid bit keep it writable when compose runs the container with
# another AIRFLOW_UID (the image supports any uid with gid 0). The source directory is created here
# so that it belongs to airflow, who runs pip.
USER root
RUN mkdir -p /state /home/airflow/airflow-provider-azureml \
    && chown airflow:0 /state /home/airflow/airflow-provider-azureml \
    && chmod 2775 /state
USER airflow

WORKDIR /home/airflow/airflow-provider-azureml
COPY --chown=airflow:0 pyproject.toml constraints-3.11.txt README.md LICENSE ./
COPY --chown=airflow:0 airflow_provider_azureml/ ./airflow_provider_azureml/

# Fail early if the base image or the lock file disagree with AIRFLOW_VERSION.
RUN grep -qxF "apache-airflow==${AIRFLOW_VERSION}" constraints-3.11.txt \
    || { echo "constraints-3.11.txt does not pin apache-airflow==${AIRFLOW_VERSION}" >&2; exit 1; }
RUN python -c "import sys; from importlib.metadata import version; v = version('apache-airflow'); \
sys.exit(0 if v == '${AIRFLOW_VERSION}' else 'base image has apache-airflow ' + v + ', expected ${AIRFLOW_VERSION}')"

# Pinning apache-airflow to the base image's version keeps pip from touching Airflow itself;
# everything else follows the tested lock file.
RUN pip install --no-cache-dir -c constraints-3.11.txt "apache-airflow==${AIRFLOW_VERSION}" ".[sdk]" \
    && python -c "import sys; from importlib.metadata import version; v = version('apache-airflow'); \
sys.exit(0 if v == '${AIRFLOW_VERSION}' else 'pip changed apache-airflow to ' + v)" \
    && python -c "import airflow_provider_azureml.emulator.__main__"

# Example DAGs baked in so the image also runs without the compose bind mount of ./dags.
WORKDIR /opt/airflow
COPY --chown=airflow:0 dags/ /opt/airflow/dags/
