package main

import (
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdaeventsources"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// The stack mirrors ../template.yaml resource for resource; a change to
// one belongs in the other (shared/deploytest compares the function names
// and the schedules).

// queueSpec is one worker queue. Its visibility timeout exceeds the
// consuming function's timeout, so a message isn't redelivered while a
// worker still runs it.
type queueSpec struct {
	name       string // "publish", "notify", "similarity" (queue.Name)
	visibility time.Duration
}

func queueSpecs() []queueSpec {
	return []queueSpec{
		{name: "publish", visibility: 720 * time.Second},
		{name: "notify", visibility: 120 * time.Second},
		{name: "similarity", visibility: 420 * time.Second},
	}
}

// functionSpec is one Lambda function, built by the Makefile into
// <BuildDir>/<name>/bootstrap from functions/<name>.
type functionSpec struct {
	name        string
	description string
	memoryMB    int
	timeout     time.Duration
	secrets     map[string]string // env var -> secret ARN ("" = not configured)
	env         map[string]string // plain env vars of this function
	orWebURL    []string          // env vars that, left empty, take the web function URL (web comes first)
	url         bool              // public function URL (auth NONE)
	queue       string            // the queue it consumes, "" for none
	batchSize   int
	concurrency int // reserved concurrency and SQS maximum concurrency; 0 = none
}

func functionSpecs(c Config) []functionSpec {
	return []functionSpec{
		{name: "web", description: "AdvisoryHub HTML UI, /api/, /report/, /healthz, /readyz.",
			memoryMB: 512, timeout: 30 * time.Second, url: true,
			secrets: map[string]string{"OIDC_RP_CLIENT_SECRET": c.OIDCClientSecretARN, "SESSION_SECRET": c.SessionSecretARN,
				"ALTCHA_HMAC_KEY": c.AltchaHMACKeyARN},
			env: map[string]string{"OIDC_ISSUER_URL": c.OIDCIssuerURL, "OIDC_RP_CLIENT_ID": c.OIDCClientID,
				"ADVISORYHUB_BASE_URL": c.BaseURL, "USE_X_FORWARDED_PROTO": "true"}},
		{name: "webhook", description: "AdvisoryHub GitHub App webhook receiver (HMAC checked in code).",
			memoryMB: 256, timeout: 15 * time.Second, url: true,
			secrets: map[string]string{"GITHUB_APP_WEBHOOK_SECRET": c.GitHubAppWebhookSecretARN}},
		{name: "publish", description: "AdvisoryHub publish worker (OSV/CSAF/CVE export, git push).",
			memoryMB: 1024, timeout: 660 * time.Second, queue: "publish", batchSize: 1,
			secrets: map[string]string{"GITHUB_APP_PRIVATE_KEY": c.GitHubAppPrivateKeyARN, "PUB_REPO_TOKEN": c.PubRepoTokenARN,
				"PUB_CSAF_SIGNING_KEY": c.PubCSAFSigningKeyARN, "PUB_CSAF_SIGNING_KEY_PASSPHRASE": c.PubCSAFSigningKeyPassphraseARN},
			env: map[string]string{"PUB_REPO_URL": c.PubRepoURL, "PUB_REPO_AUTH": c.PubRepoAuth, "PUB_REPO_BRANCH": c.PubRepoBranch,
				"PUB_COMMIT_AUTHOR_NAME": c.PubCommitAuthorName, "PUB_COMMIT_AUTHOR_EMAIL": c.PubCommitAuthorEmail,
				"PUB_CVE_ASSIGNER_ORG_ID": c.PubCVEAssignerOrgID,
				"PUB_CSAF_PROVIDER_URL":   c.PubCSAFProviderURL, "PUB_CSAF_PATH_TEMPLATE": c.PubCSAFPathTemplate}},
		{name: "notify", description: "AdvisoryHub notify worker (email).",
			memoryMB: 256, timeout: 60 * time.Second, queue: "notify", batchSize: 10,
			secrets: map[string]string{"EMAIL_HOST_PASSWORD": c.EmailHostPasswordARN},
			// The invitation emails. notify refuses to start without a base
			// URL, so an empty one falls back to the web function URL.
			env: map[string]string{"ADVISORYHUB_BASE_URL": c.BaseURL,
				"EMAIL_BACKEND": c.EmailBackend, "EMAIL_HOST": c.EmailHost, "EMAIL_PORT": strconv.Itoa(c.EmailPort),
				"EMAIL_HOST_USER": c.EmailHostUser, "EMAIL_USE_TLS": strconv.FormatBool(c.EmailUseTLS),
				"EMAIL_USE_SSL": strconv.FormatBool(c.EmailUseSSL), "EMAIL_TIMEOUT": strconv.Itoa(c.EmailTimeout),
				"DEFAULT_FROM_EMAIL": c.DefaultFromEmail},
			orWebURL: []string{"ADVISORYHUB_BASE_URL"}},
		{name: "similarity", description: "AdvisoryHub similarity worker (LLM comparison).",
			memoryMB: 256, timeout: 360 * time.Second, queue: "similarity", batchSize: 1,
			concurrency: c.SimilarityConcurrency,
			secrets:     map[string]string{"SIMILARITY_LLM_API_KEY": c.SimilarityLLMAPIKeyARN}},
		{name: "scheduled", description: "AdvisoryHub periodic jobs and operator commands.",
			memoryMB: 512, timeout: 300 * time.Second,
			secrets: map[string]string{"GITHUB_APP_PRIVATE_KEY": c.GitHubAppPrivateKeyARN}},
	}
}

// scheduleSpec invokes the scheduled function with {"job": job}. Each
// periodic job adds its row when it is implemented.
type scheduleSpec struct {
	id          string
	job         string
	every       time.Duration
	description string
}

func scheduleSpecs() []scheduleSpec {
	return []scheduleSpec{
		{id: "OutboxSweep", job: "outbox-sweep", every: time.Minute,
			description: "Forward outbox rows the post-commit dispatch missed."},
		{id: "AccessLogPartitionMaintenance", job: "access-log-partition-maintenance", every: 24 * time.Hour,
			description: "Create this and next month's access-log partitions; drop expired ones."},
		{id: "RateLimitPrune", job: "rate-limit-prune", every: time.Hour,
			description: "Delete rate-limit counters whose window has ended."},
		{id: "AltchaReplayPrune", job: "altcha-replay-prune", every: time.Hour,
			description: "Delete the ALTCHA replay markers of expired challenges."},
		{id: "PublicationTaskReaper", job: "publication-task-reaper", every: 10 * time.Minute,
			description: "Fail publication tasks stuck in running or queued past their thresholds."},
	}
}

// NewStack defines the AdvisoryHub resources in a new stack.
func NewStack(scope constructs.Construct, id string, props *awscdk.StackProps, c Config) awscdk.Stack {
	stack := awscdk.NewStack(scope, jsii.String(id), props)

	var alarmTopic awssns.ITopic
	if c.AlarmTopicARN != "" {
		alarmTopic = awssns.Topic_FromTopicArn(stack, jsii.String("AlarmTopic"), jsii.String(c.AlarmTopicARN))
	}

	queues := map[string]awssqs.Queue{}
	var queueARNs []*string
	for _, q := range queueSpecs() {
		prefix := logicalName(q.name)
		dlq := awssqs.NewQueue(stack, jsii.String(prefix+"DeadLetterQueue"), &awssqs.QueueProps{
			Encryption:      awssqs.QueueEncryption_SQS_MANAGED,
			RetentionPeriod: awscdk.Duration_Days(jsii.Number(14)),
		})
		queue := awssqs.NewQueue(stack, jsii.String(prefix+"Queue"), &awssqs.QueueProps{
			Encryption:        awssqs.QueueEncryption_SQS_MANAGED,
			VisibilityTimeout: seconds(q.visibility),
			RetentionPeriod:   awscdk.Duration_Days(jsii.Number(4)),
			DeadLetterQueue:   &awssqs.DeadLetterQueue{Queue: dlq, MaxReceiveCount: jsii.Number(5)},
		})
		queues[q.name] = queue
		queueARNs = append(queueARNs, queue.QueueArn())

		alarm := dlq.MetricApproximateNumberOfMessagesVisible(&awscloudwatch.MetricOptions{
			Period:    awscdk.Duration_Minutes(jsii.Number(5)),
			Statistic: jsii.String("Maximum"),
		}).CreateAlarm(stack, jsii.String(prefix+"DeadLetterQueueAlarm"), &awscloudwatch.CreateAlarmOptions{
			AlarmDescription:   jsii.String(fmt.Sprintf("Poison messages in the %s dead-letter queue.", q.name)),
			Threshold:          jsii.Number(0),
			EvaluationPeriods:  jsii.Number(1),
			ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
			TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
		})
		if alarmTopic != nil {
			alarm.AddAlarmAction(awscloudwatchactions.NewSnsAction(alarmTopic))
			alarm.AddOkAction(awscloudwatchactions.NewSnsAction(alarmTopic))
		}

		awscdk.NewCfnOutput(stack, jsii.String(prefix+"QueueUrl"), &awscdk.CfnOutputProps{Value: queue.QueueUrl()})
		awscdk.NewCfnOutput(stack, jsii.String(prefix+"DeadLetterQueueUrl"), &awscdk.CfnOutputProps{Value: dlq.QueueUrl()})
	}

	// Every function may write jobs through the outbox, and a job may
	// enqueue follow-ups, so all of them can send to all three queues.
	sendPolicy := awsiam.NewManagedPolicy(stack, jsii.String("QueueSendPolicy"), &awsiam.ManagedPolicyProps{
		Description: jsii.String("Send AdvisoryHub jobs to the publish, notify and similarity queues."),
		Statements: &[]awsiam.PolicyStatement{awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("SendJobs"),
			Actions:   jsii.Strings("sqs:SendMessage"),
			Resources: &queueARNs,
		})},
	})
	dbStatements := []awsiam.PolicyStatement{awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("ReadDatabaseSecret"),
		Actions:   jsii.Strings("secretsmanager:GetSecretValue"),
		Resources: jsii.Strings(c.DatabaseURLSecretARN),
	})}
	if c.SecretsKMSKeyARN != "" {
		dbStatements = append(dbStatements, awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("DecryptSecrets"),
			Actions:   jsii.Strings("kms:Decrypt"),
			Resources: jsii.Strings(c.SecretsKMSKeyARN),
			Conditions: &map[string]any{"StringEquals": map[string]any{
				"kms:ViaService": fmt.Sprintf("secretsmanager.%s.amazonaws.com", *stack.Region()),
			}},
		}))
	}
	dbPolicy := awsiam.NewManagedPolicy(stack, jsii.String("DatabaseSecretPolicy"), &awsiam.ManagedPolicyProps{
		Description: jsii.String("Read the AdvisoryHub DATABASE_URL secret."),
		Statements:  &dbStatements,
	})
	// What a function in a VPC needs to manage its network interfaces; EC2
	// offers no narrower resource for these actions.
	eniPolicy := awsiam.ManagedPolicy_FromAwsManagedPolicyName(jsii.String("service-role/AWSLambdaENIManagementAccess"))

	sharedEnv := map[string]string{
		// Secret values arrive as ARNs; boot resolves arn:aws:secretsmanager:
		// and arn:aws:ssm: values at cold start.
		"DATABASE_URL":         c.DatabaseURLSecretARN,
		"QUEUE_BACKEND":        "sqs",
		"QUEUE_URL_PUBLISH":    *queues["publish"].QueueUrl(),
		"QUEUE_URL_NOTIFY":     *queues["notify"].QueueUrl(),
		"QUEUE_URL_SIMILARITY": *queues["similarity"].QueueUrl(),
		"LOG_LEVEL":            c.LogLevel,
		"LOG_FORMAT":           "json",
		"ADVISORYHUB_ENV":      "production",
		"OIDC_ADMIN_GROUP":     c.OIDCAdminGroup,
	}

	fns := map[string]awslambda.Function{}
	var webURL awslambda.FunctionUrl
	for _, spec := range functionSpecs(c) {
		prefix := logicalName(spec.name)
		logGroup := awslogs.NewLogGroup(stack, jsii.String(prefix+"LogGroup"), &awslogs.LogGroupProps{
			LogGroupName:  jsii.String(fmt.Sprintf("/advisoryhub/%s/%s", *stack.StackName(), spec.name)),
			Retention:     c.logRetention(),
			RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
		})

		// An explicit role rather than the default one, which carries
		// AWSLambdaBasicExecutionRole (logs in every log group): this one
		// writes only the function's own log group.
		role := awsiam.NewRole(stack, jsii.String(prefix+"Role"), &awsiam.RoleProps{
			Description:     jsii.String(fmt.Sprintf("Execution role of the AdvisoryHub %s function.", spec.name)),
			AssumedBy:       awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
			ManagedPolicies: &[]awsiam.IManagedPolicy{eniPolicy, sendPolicy, dbPolicy},
		})
		role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("WriteLogs"),
			Actions:   jsii.Strings("logs:CreateLogStream", "logs:PutLogEvents"),
			Resources: &[]*string{logGroup.LogGroupArn()},
		}))

		env := map[string]*string{}
		for k, v := range sharedEnv {
			env[k] = jsii.String(v)
		}
		for k, v := range spec.env {
			env[k] = jsii.String(v)
		}
		for _, k := range spec.orWebURL {
			if webURL == nil {
				panic(fmt.Sprintf("functionSpecs: %s takes the web function URL, but web comes later", spec.name))
			}
			if env[k] == nil || *env[k] == "" {
				env[k] = webURL.Url()
			}
		}
		var secretARNs []string
		for envVar, arn := range spec.secrets {
			env[envVar] = jsii.String(arn)
			if arn != "" {
				secretARNs = append(secretARNs, arn)
			}
		}
		if len(secretARNs) > 0 {
			slices.Sort(secretARNs) // map order would make the synth unstable
			role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:       jsii.String("ReadSecrets"),
				Actions:   jsii.Strings("secretsmanager:GetSecretValue"),
				Resources: jsii.Strings(secretARNs...),
			}))
		}

		props := &awslambda.FunctionProps{
			Description:  jsii.String(spec.description),
			Runtime:      awslambda.Runtime_PROVIDED_AL2023(),
			Architecture: awslambda.Architecture_ARM_64(),
			Handler:      jsii.String("bootstrap"),
			Code:         awslambda.Code_FromAsset(jsii.String(filepath.Join(c.BuildDir, spec.name)), nil),
			MemorySize:   jsii.Number(spec.memoryMB),
			Timeout:      seconds(spec.timeout),
			Role:         role,
			LogGroup:     logGroup,
			Environment:  &env,
		}
		if spec.concurrency > 0 {
			props.ReservedConcurrentExecutions = jsii.Number(spec.concurrency)
		}
		fn := awslambda.NewFunction(stack, jsii.String(prefix+"Function"), props)
		// The VPC is given as subnet and security group IDs (as in the SAM
		// template), which the L2 construct can't take without an IVpc.
		cfnFn := fn.Node().DefaultChild().(awslambda.CfnFunction)
		cfnFn.SetVpcConfig(&awslambda.CfnFunction_VpcConfigProperty{
			SubnetIds:        jsii.Strings(c.SubnetIDs...),
			SecurityGroupIds: jsii.Strings(c.SecurityGroupID),
		})
		fns[spec.name] = fn

		if spec.queue != "" {
			esProps := &awslambdaeventsources.SqsEventSourceProps{
				BatchSize:               jsii.Number(spec.batchSize),
				ReportBatchItemFailures: jsii.Bool(true),
			}
			if spec.concurrency > 0 {
				// Keeps the poller at or below the reserved concurrency, so
				// throttling doesn't burn receive counts into the DLQ.
				esProps.MaxConcurrency = jsii.Number(spec.concurrency)
			}
			fn.AddEventSource(awslambdaeventsources.NewSqsEventSource(queues[spec.queue], esProps))
		}
		if spec.url {
			url := fn.AddFunctionUrl(&awslambda.FunctionUrlOptions{AuthType: awslambda.FunctionUrlAuthType_NONE})
			if spec.name == "web" {
				webURL = url
			}
			awscdk.NewCfnOutput(stack, jsii.String(prefix+"Url"), &awscdk.CfnOutputProps{
				Description: jsii.String(fmt.Sprintf("Function URL of the %s function.", spec.name)),
				Value:       url.Url(),
			})
		}
	}

	for _, s := range scheduleSpecs() {
		awsevents.NewRule(stack, jsii.String(s.id+"Schedule"), &awsevents.RuleProps{
			Description: jsii.String(s.description),
			Schedule:    awsevents.Schedule_Rate(seconds(s.every)),
			Targets: &[]awsevents.IRuleTarget{awseventstargets.NewLambdaFunction(fns["scheduled"], &awseventstargets.LambdaFunctionProps{
				Event: awsevents.RuleTargetInput_FromObject(map[string]string{"job": s.job}),
			})},
		})
	}
	awscdk.NewCfnOutput(stack, jsii.String("ScheduledFunctionName"), &awscdk.CfnOutputProps{
		Description: jsii.String(`Invoke with {"command":"<name>","args":[...]} for operator commands.`),
		Value:       fns["scheduled"].FunctionName(),
	})
	return stack
}

// logicalName turns "web" into "Web", the prefix of its construct IDs.
func logicalName(name string) string { return strings.ToUpper(name[:1]) + name[1:] }

func seconds(d time.Duration) awscdk.Duration {
	return awscdk.Duration_Seconds(jsii.Number(d.Seconds()))
}
