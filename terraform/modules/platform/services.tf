# The Dagster deployment on ECS (deploy/prod/dagster.yaml, deploy/prod/workspace.yaml): the
# code location, the daemon and the webserver as services, and the run task definition the
# daemon starts each run from. All run the one image (deploy/Dockerfile), with the environment
# the instance and workspace files read. Nothing is public: the tasks have no public address and
# no load balancer; the UI is reached through the platform team's authenticating proxy
# (README, "Production"), whose security groups are `dagster.webserver_clients`.

locals {
  ecs_arn     = "${local.arn_prefix}:ecs:${var.estate.region}:${var.estate.account_id}"
  cluster_arn = "${local.ecs_arn}:cluster/${local.cluster_name}"
  # The run task definition's family: the daemon may start tasks of this family only.
  run_family      = "custos-${var.environment}-dagster-run"
  run_container   = "run" # deploy/prod/dagster.yaml's container_name
  run_roles       = [local.dagster_role, local.execution_role]
  run_definitions = "${local.ecs_arn}:task-definition/${local.run_family}:*"
  cluster_tasks   = "${local.ecs_arn}:task/${local.cluster_name}/*"
  # The roles' ARNs from their names: the task definitions wait for the roles (depends_on).
  role_arns = {
    for name in [local.dagster_role, local.execution_role, local.daemon_role, local.webserver_role] :
    name => "${local.arn_prefix}:iam::${var.estate.account_id}:role/${name}"
  }
  namespace          = "custos-${var.environment}.internal"
  code_location_name = "code-location"
  code_location_host = "${local.code_location_name}.${local.namespace}"
  code_location_port = 4000
  workspace_file     = "/opt/dagster/workspace.yaml"

  # Where the Slack webhook comes from (EnvironmentSettings.slack_webhook): an `env:NAME`
  # reference needs NAME in the tasks that alert, filled from `dagster.slack_webhook_parameter`
  # (a SecureString the platform team writes; Terraform never holds the webhook). An `ssm:/name`
  # reference is read by the platform itself, with the task role.
  slack_variable = startswith(var.estate.slack_webhook, "env:") ? trimprefix(var.estate.slack_webhook, "env:") : null
  slack_parameter = (startswith(var.estate.slack_webhook, "ssm:") ? trimprefix(var.estate.slack_webhook, "ssm:")
  : var.dagster.slack_webhook_parameter)
  slack_parameter_arns = (local.slack_parameter == null ? [] :
  ["${local.arn_prefix}:ssm:${var.estate.region}:${var.estate.account_id}:parameter${local.slack_parameter}"])
  slack_secrets = (local.slack_variable == null || var.dagster.slack_webhook_parameter == null ? [] :
  [{ name = local.slack_variable, valueFrom = local.slack_parameter_arns[0] }])

  # What every task reads: the Dagster instance (deploy/prod/dagster.yaml's storage; a run and
  # the code location open the instance too) and the platform's settings (load_settings).
  instance_environment = {
    DAGSTER_PG_HOST = aws_db_instance.dagster.address
    DAGSTER_PG_PORT = tostring(aws_db_instance.dagster.port)
    DAGSTER_PG_DB   = aws_db_instance.dagster.db_name
    DAGSTER_PG_USER = aws_db_instance.dagster.username
    ENVIRONMENT     = var.environment
    CONFIG_PATH     = "ssm:${local.ssm_prefix}/tenants_config"
    AWS_REGION      = var.estate.region
  }
  # The password only through `secrets`: ECS reads it from the RDS-managed secret at start.
  instance_secrets = [{ name = "DAGSTER_PG_PASSWORD", valueFrom = "${aws_db_instance.dagster.master_user_secret[0].secret_arn}:password::" }]
  # What the daemon and the webserver read besides: the run launcher's task definition and the
  # workspace's code location (deploy/prod/workspace.yaml). The run task definition by family:
  # the launcher resolves it to its newest revision when it starts (its ARN would make the
  # containers depend on themselves).
  workspace_environment = merge(local.instance_environment, {
    DAGSTER_ECS_RUN_TASK_DEFINITION = local.run_family
    DAGSTER_CODE_LOCATION_HOST      = local.code_location_host
    DAGSTER_CODE_LOCATION_PORT      = tostring(local.code_location_port)
  })

  # Each task: its container's name, command (the image's CMD for the code location; the
  # README's for the daemon and webserver), variables, secrets, port, size and role.
  tasks = {
    code_location = {
      container   = local.code_location_name
      command     = ["dagster", "code-server", "start", "-h", "0.0.0.0", "-p", tostring(local.code_location_port), "-m", "finops_platform.definitions"]
      environment = local.instance_environment
      secrets     = concat(local.instance_secrets, local.slack_secrets)
      ports       = [local.code_location_port]
      cpu         = 1024
      memory      = 2048
      role        = local.dagster_role
    }
    daemon = {
      container   = "daemon"
      command     = ["dagster-daemon", "run", "-w", local.workspace_file]
      environment = local.workspace_environment
      secrets     = local.instance_secrets
      ports       = []
      cpu         = 512
      memory      = 1024
      role        = local.daemon_role
    }
    webserver = {
      container   = "webserver"
      command     = ["dagster-webserver", "-w", local.workspace_file, "-h", "0.0.0.0", "-p", "3000"]
      environment = local.workspace_environment
      secrets     = local.instance_secrets
      ports       = [3000]
      cpu         = 1024
      memory      = 2048
      role        = local.webserver_role
    }
    # The launcher overrides the command (`dagster api execute_run ...`) and, per tenant, the size.
    run = {
      container   = local.run_container
      command     = null
      environment = local.instance_environment
      secrets     = concat(local.instance_secrets, local.slack_secrets)
      ports       = []
      cpu         = 1024
      memory      = 4096
      role        = local.run_roles[0]
    }
  }
  containers = {
    for key, task in local.tasks : key => {
      name                   = task.container
      image                  = var.dagster.image
      essential              = true
      command                = task.command
      environment            = [for name, value in task.environment : { name = name, value = value }]
      secrets                = task.secrets
      portMappings           = [for port in task.ports : { containerPort = port, protocol = "tcp" }]
      readonlyRootFilesystem = false
      logConfiguration = {
        logDriver = "awslogs"
        options = {
          awslogs-group         = aws_cloudwatch_log_group.dagster.name
          awslogs-region        = var.estate.region
          awslogs-stream-prefix = task.container
        }
      }
    }
  }
  # The services: the daemon is exactly one task, never two, even during a deployment (two
  # daemons would both start each queued run).
  services = {
    code_location = { minimum_healthy = 100, maximum = 200, discovered = true }
    daemon        = { minimum_healthy = 0, maximum = 100, discovered = false }
    webserver     = { minimum_healthy = 100, maximum = 200, discovered = false }
  }
}

# The services' task definitions and the run task definition (family `local.run_family`).
resource "aws_ecs_task_definition" "dagster" {
  #checkov:skip=CKV_AWS_336:Dagster writes compute logs under the image's DAGSTER_HOME, and runs and the webserver scratch files under /tmp
  for_each                 = local.tasks
  family                   = "custos-${var.environment}-dagster-${local.tasks[each.key].container}"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = tostring(local.tasks[each.key].cpu)
  memory                   = tostring(local.tasks[each.key].memory)
  task_role_arn            = local.role_arns[local.tasks[each.key].role]
  execution_role_arn       = local.role_arns[local.execution_role]
  container_definitions    = jsonencode([local.containers[each.key]])
  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = "X86_64"
  }
  depends_on = [module.ecs_roles]
}

# The daemon and the webserver find the code location by name: its tasks register in Cloud Map.
resource "aws_service_discovery_private_dns_namespace" "dagster" {
  name        = local.namespace
  description = "FinOps platform (${var.environment}): the Dagster services"
  vpc         = var.network.vpc_id
}

resource "aws_service_discovery_service" "code_location" {
  name = local.code_location_name
  dns_config {
    namespace_id   = aws_service_discovery_private_dns_namespace.dagster.id
    routing_policy = "MULTIVALUE"
    dns_records {
      type = "A"
      ttl  = 10
    }
  }
  health_check_custom_config {
    failure_threshold = 1
  }
}

resource "aws_ecs_service" "dagster" {
  for_each                           = local.services
  name                               = "custos-${var.environment}-dagster-${local.tasks[each.key].container}"
  cluster                            = aws_ecs_cluster.dagster.id
  task_definition                    = aws_ecs_task_definition.dagster[each.key].arn
  desired_count                      = 1
  launch_type                        = "FARGATE"
  platform_version                   = "LATEST"
  deployment_minimum_healthy_percent = each.value.minimum_healthy
  deployment_maximum_percent         = each.value.maximum
  enable_execute_command             = false
  propagate_tags                     = "SERVICE"

  network_configuration {
    subnets          = var.network.subnet_ids
    security_groups  = [aws_security_group.tasks.id]
    assign_public_ip = false
  }

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  dynamic "service_registries" {
    for_each = each.value.discovered ? [aws_service_discovery_service.code_location.arn] : []
    content {
      registry_arn = service_registries.value
    }
  }
}

# The daemon: starts each run as a task of the run task definition, in this cluster, as the run
# task's roles (dagster-aws's EcsRunLauncher, with use_current_ecs_task_config), watches and
# stops it, and sizes it by its tenant (finops_platform/ecs.py reads the tenants config).
data "aws_iam_policy_document" "daemon" {
  statement {
    sid       = "StartRuns"
    actions   = ["ecs:RunTask"]
    resources = [local.run_definitions]
    condition {
      test     = "ArnEquals"
      variable = "ecs:cluster"
      values   = [local.cluster_arn]
    }
  }

  statement {
    sid       = "WatchAndStopRuns"
    actions   = ["ecs:DescribeTasks", "ecs:StopTask"]
    resources = [local.cluster_tasks]
  }

  statement {
    sid       = "TagRunsAtStart"
    actions   = ["ecs:TagResource"]
    resources = [local.cluster_tasks]
    condition {
      test     = "StringEquals"
      variable = "ecs:CreateAction"
      values   = ["RunTask"]
    }
  }

  statement {
    sid       = "ListClusterTasks"
    actions   = ["ecs:ListTasks"]
    resources = ["*"] # ListTasks is authorized on the cluster condition, not a task ARN
    condition {
      test     = "ArnEquals"
      variable = "ecs:cluster"
      values   = [local.cluster_arn]
    }
  }

  statement {
    sid = "NoResourceLevelPermissions"
    # The launcher reads the run task definition and its own task's network interfaces; AWS
    # accepts only "*" as the resource of these two actions.
    actions   = ["ecs:DescribeTaskDefinition", "ec2:DescribeNetworkInterfaces"]
    resources = ["*"]
  }

  statement {
    sid       = "PassRunRoles"
    actions   = ["iam:PassRole"]
    resources = [for name in local.run_roles : local.role_arns[name]]
    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["ecs-tasks.amazonaws.com"]
    }
  }

  statement {
    sid       = "ReadTenantsConfig"
    actions   = ["ssm:GetParameter"]
    resources = ["${local.arn_prefix}:ssm:${var.estate.region}:${var.estate.account_id}:parameter${local.ssm_prefix}/tenants_config"]
  }

  statement {
    sid       = "DecryptTenantsConfig"
    actions   = ["kms:Decrypt"]
    resources = [aws_kms_key.platform.arn]
  }

  statement {
    sid       = "ReadFailedRunLogs"
    actions   = ["logs:GetLogEvents"]
    resources = ["${local.arn_prefix}:logs:${var.estate.region}:${var.estate.account_id}:log-group:${aws_cloudwatch_log_group.dagster.name}:log-stream:${local.run_container}/*"]
  }
}

# The webserver: the UI's "terminate" stops a run's task through the same launcher.
data "aws_iam_policy_document" "webserver" {
  statement {
    sid       = "StopRuns"
    actions   = ["ecs:DescribeTasks", "ecs:StopTask"]
    resources = [local.cluster_tasks]
  }

  statement {
    sid       = "NoResourceLevelPermissions"
    actions   = ["ecs:DescribeTaskDefinition"]
    resources = ["*"]
  }
}
