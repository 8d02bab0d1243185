package deploytest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// The worker functions: each consumes exactly one SQS queue.
func workerNames() []string { return []string{"publish", "notify", "similarity"} }

// The schedules every deployment declares (job names of the scheduled
// function's {"job": ...} input).
func requiredSchedules() []string {
	return []string{"outbox-sweep", "access-log-partition-maintenance", "rate-limit-prune", "altcha-replay-prune",
		"publication-task-reaper"}
}

// The variables every function gets through Globals; config.Load reads
// them.
func sharedEnv() []string {
	return []string{
		"DATABASE_URL", "QUEUE_BACKEND",
		"QUEUE_URL_PUBLISH", "QUEUE_URL_NOTIFY", "QUEUE_URL_SIMILARITY",
		"LOG_LEVEL", "LOG_FORMAT",
	}
}

func TestCfnLint(t *testing.T) {
	root := repoRoot(t)
	bin, err := exec.LookPath("cfn-lint")
	if err != nil {
		t.Fatalf("cfn-lint is not on PATH (%v); install it with `pip install 'cfn-lint>=1.51'` "+
			"(or `pipx install cfn-lint`) and make sure its bin directory is on PATH", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "template.yaml")
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Fatalf("cfn-lint template.yaml: %v\n%s", err, out)
	}
}

func TestTemplateMatchesFunctions(t *testing.T) {
	root := repoRoot(t)
	tpl := readTemplate(t, filepath.Join(root, "template.yaml"))
	dirs, err := functionDirs(filepath.Join(root, "functions"))
	if err != nil {
		t.Fatal(err)
	}

	t.Run("functions", func(t *testing.T) {
		reportProblems(t, checkFunctions(tpl, dirs))
	})
	t.Run("shared environment", func(t *testing.T) {
		reportProblems(t, checkSharedEnv(tpl))
	})
	t.Run("worker queues", func(t *testing.T) {
		reportProblems(t, checkWorkerQueues(tpl))
	})
	t.Run("schedules", func(t *testing.T) {
		reportProblems(t, checkSchedules(tpl))
	})
}

// TestInfraMatchesTemplate is a grep-level check that the CDK app in infra/
// (a separate module, not compiled here) declares the same functions as
// template.yaml and every required schedule.
func TestInfraMatchesTemplate(t *testing.T) {
	root := repoRoot(t)
	src, err := os.ReadFile(filepath.Join(root, "infra", "stack.go"))
	if err != nil {
		t.Fatal(err)
	}
	tpl := readTemplate(t, filepath.Join(root, "template.yaml"))

	// The functions are the rows of functionSpecs: {name: "web", ...}.
	_, body, ok := bytes.Cut(src, []byte("func functionSpecs("))
	if !ok {
		t.Fatal("infra/stack.go has no func functionSpecs")
	}
	body, _, _ = bytes.Cut(body, []byte("\n}\n"))
	var infra []string
	for _, m := range regexp.MustCompile(`\{\s*name:\s*"([a-z0-9-]+)"`).FindAllSubmatch(body, -1) {
		infra = append(infra, string(m[1]))
	}
	var sam []string
	for _, f := range tpl.functions() {
		sam = append(sam, f.name)
	}
	slices.Sort(infra)
	slices.Sort(sam)
	if !slices.Equal(infra, sam) {
		t.Errorf("infra/stack.go declares functions %q, template.yaml %q", infra, sam)
	}
	for _, job := range requiredSchedules() {
		if !bytes.Contains(src, []byte(strconv.Quote(job))) {
			t.Errorf("infra/stack.go has no schedule for %q", job)
		}
	}
}

// TestChecksFindProblems feeds the checks a broken template, so that a
// check that passes everything can't go unnoticed.
func TestChecksFindProblems(t *testing.T) {
	const broken = `
Globals:
  Function:
    Runtime: provided.al2023
    Environment:
      Variables:
        DATABASE_URL: !Ref Db
Resources:
  Q:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimeout: 30
  WebFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: build/web/
  PublishFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: build/publish/
      Timeout: 60
      Events:
        Q:
          Type: SQS
          Properties:
            Queue: !GetAtt Q.Arn
  ScheduledFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: build/scheduled
      Events:
        Other:
          Type: Schedule
          Properties:
            Schedule: rate(1 hour)
            Input: '{"job": "something-else"}'
`
	tpl, err := parseTemplate([]byte(broken))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		problems []string
		want     []string
	}{
		{"functions", checkFunctions(tpl, []string{"web", "publish", "notify"}),
			[]string{`"notify" has a main.go but no function`, `"scheduled" has no functions/scheduled/main.go`, "Architectures"}},
		{"shared environment", checkSharedEnv(tpl), []string{"QUEUE_URL_PUBLISH"}},
		{"worker queues", checkWorkerQueues(tpl),
			[]string{"no RedrivePolicy", "ReportBatchItemFailures", "VisibilityTimeout 30", "notify: no function"}},
		{"schedules", checkSchedules(tpl), []string{`"outbox-sweep"`}},
	} {
		joined := strings.Join(tc.problems, "\n")
		for _, w := range tc.want {
			if !strings.Contains(joined, w) {
				t.Errorf("%s: problems don't mention %q; got:\n%s", tc.name, w, joined)
			}
		}
	}
}

// ---------------------------------------------------------------- checks

// checkFunctions compares the template's functions with the directories
// under functions/ that hold a main.go, and checks the runtime settings
// that the Makefile's build relies on.
func checkFunctions(tpl *template, dirs []string) []string {
	var problems []string
	inTemplate := map[string]bool{}
	for _, f := range tpl.functions() {
		if f.name == "" {
			problems = append(problems, fmt.Sprintf("%s: CodeUri %q is not build/<name>/", f.logicalID, scalar(lookup(f.props, "CodeUri"))))
			continue
		}
		if inTemplate[f.name] {
			problems = append(problems, fmt.Sprintf("%s: a second function built from build/%s/", f.logicalID, f.name))
		}
		inTemplate[f.name] = true
		for key, want := range map[string]string{"Runtime": "provided.al2023", "Handler": "bootstrap"} {
			if got := scalar(tpl.property(f, key)); got != want {
				problems = append(problems, fmt.Sprintf("%s: %s is %q, want %q", f.logicalID, key, got, want))
			}
		}
		if arch := tpl.property(f, "Architectures"); arch == nil || arch.Kind != yaml.SequenceNode ||
			len(arch.Content) != 1 || arch.Content[0].Value != "arm64" {
			problems = append(problems, fmt.Sprintf("%s: Architectures must be [arm64]", f.logicalID))
		}
	}
	onDisk := map[string]bool{}
	for _, d := range dirs {
		onDisk[d] = true
		if !inTemplate[d] {
			problems = append(problems, fmt.Sprintf("functions/%s: %q has a main.go but no function in template.yaml", d, d))
		}
	}
	for name := range inTemplate {
		if !onDisk[name] {
			problems = append(problems, fmt.Sprintf("template.yaml: %q has no functions/%s/main.go", name, name))
		}
	}
	slices.Sort(problems)
	return problems
}

func checkSharedEnv(tpl *template) []string {
	vars := lookup(tpl.globals, "Environment", "Variables")
	var problems []string
	for _, name := range sharedEnv() {
		if lookup(vars, name) == nil {
			problems = append(problems, fmt.Sprintf("Globals.Function.Environment.Variables has no %s", name))
		}
	}
	return problems
}

// checkWorkerQueues checks that each worker consumes exactly one SQS queue
// of its own, reports batch item failures, and that the queue redrives to
// a dead-letter queue after 5 receives and hides a message for longer than
// the function may run.
func checkWorkerQueues(tpl *template) []string {
	var problems []string
	consumer := map[string]string{} // queue logical ID -> worker
	for _, name := range workerNames() {
		f, ok := tpl.function(name)
		if !ok {
			problems = append(problems, fmt.Sprintf("%s: no function built from build/%s/", name, name))
			continue
		}
		var sqsEvents []*yaml.Node
		for _, ev := range mappingValues(lookup(f.props, "Events")) {
			if scalar(lookup(ev, "Type")) == "SQS" {
				sqsEvents = append(sqsEvents, lookup(ev, "Properties"))
			}
		}
		if len(sqsEvents) != 1 {
			problems = append(problems, fmt.Sprintf("%s: %d SQS events, want 1", f.logicalID, len(sqsEvents)))
			continue
		}
		ev := sqsEvents[0]
		if !slices.ContainsFunc(children(lookup(ev, "FunctionResponseTypes")), func(n *yaml.Node) bool {
			return n.Value == "ReportBatchItemFailures"
		}) {
			problems = append(problems, fmt.Sprintf("%s: SQS event lacks FunctionResponseTypes [ReportBatchItemFailures]", f.logicalID))
		}
		queueID, attr := getAtt(lookup(ev, "Queue"))
		queue := tpl.resources[queueID]
		if attr != "Arn" || scalar(lookup(queue, "Type")) != "AWS::SQS::Queue" {
			problems = append(problems, fmt.Sprintf("%s: SQS event Queue must be !GetAtt <Queue>.Arn of a queue in this template", f.logicalID))
			continue
		}
		if other, ok := consumer[queueID]; ok {
			problems = append(problems, fmt.Sprintf("%s: queue %s is also consumed by %s", f.logicalID, queueID, other))
		}
		consumer[queueID] = name

		props := lookup(queue, "Properties")
		redrive := lookup(props, "RedrivePolicy")
		if redrive == nil {
			problems = append(problems, fmt.Sprintf("%s: queue %s has no RedrivePolicy", f.logicalID, queueID))
		} else {
			dlqID, dlqAttr := getAtt(lookup(redrive, "deadLetterTargetArn"))
			if dlqAttr != "Arn" || scalar(lookup(tpl.resources[dlqID], "Type")) != "AWS::SQS::Queue" || dlqID == queueID {
				problems = append(problems, fmt.Sprintf("%s: RedrivePolicy of %s must target another queue via !GetAtt <DLQ>.Arn", f.logicalID, queueID))
			}
			if got := scalar(lookup(redrive, "maxReceiveCount")); got != "5" {
				problems = append(problems, fmt.Sprintf("%s: RedrivePolicy of %s has maxReceiveCount %q, want 5", f.logicalID, queueID, got))
			}
		}
		visibility, err1 := strconv.Atoi(scalar(lookup(props, "VisibilityTimeout")))
		timeout, err2 := strconv.Atoi(scalar(tpl.property(f, "Timeout")))
		switch {
		case err1 != nil || err2 != nil:
			problems = append(problems, fmt.Sprintf("%s: need numeric queue VisibilityTimeout and function Timeout", f.logicalID))
		case visibility <= timeout:
			problems = append(problems, fmt.Sprintf("%s: queue %s VisibilityTimeout %d must exceed function Timeout %d", f.logicalID, queueID, visibility, timeout))
		}
	}
	return problems
}

// checkSchedules checks that every schedule of the scheduled function sends
// {"job": "<name>"} and that the required jobs are among them.
func checkSchedules(tpl *template) []string {
	f, ok := tpl.function("scheduled")
	if !ok {
		return []string{"scheduled: no function built from build/scheduled/"}
	}
	var problems []string
	jobs := map[string]bool{}
	for _, ev := range mappingValues(lookup(f.props, "Events")) {
		if typ := scalar(lookup(ev, "Type")); typ != "Schedule" && typ != "ScheduleV2" {
			continue
		}
		props := lookup(ev, "Properties")
		var in struct {
			Job string `json:"job"`
		}
		if err := json.Unmarshal([]byte(scalar(lookup(props, "Input"))), &in); err != nil || in.Job == "" {
			problems = append(problems, fmt.Sprintf("%s: schedule Input %q is not {\"job\": \"<name>\"}", f.logicalID, scalar(lookup(props, "Input"))))
			continue
		}
		jobs[in.Job] = true
	}
	for _, job := range requiredSchedules() {
		if !jobs[job] {
			problems = append(problems, fmt.Sprintf("%s: no schedule for job %q", f.logicalID, job))
		}
	}
	return problems
}

// ------------------------------------------------------------- template

type template struct {
	resources map[string]*yaml.Node // logical ID -> resource
	globals   *yaml.Node            // Globals.Function; may be nil
}

type function struct {
	logicalID string
	name      string // from CodeUri build/<name>/; "" if it has another form
	props     *yaml.Node
}

func readTemplate(t *testing.T, path string) *template {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := parseTemplate(data)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return tpl
}

// parseTemplate reads the template as a node tree, which keeps intrinsic
// tags such as !Ref and !GetAtt instead of failing on them.
func parseTemplate(data []byte) (*template, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	res := lookup(&doc, "Resources")
	if res == nil || res.Kind != yaml.MappingNode {
		return nil, errors.New("no Resources mapping")
	}
	tpl := &template{resources: map[string]*yaml.Node{}, globals: lookup(&doc, "Globals", "Function")}
	for i := 0; i+1 < len(res.Content); i += 2 {
		tpl.resources[res.Content[i].Value] = res.Content[i+1]
	}
	return tpl, nil
}

var codeURIPattern = regexp.MustCompile(`^build/([a-z0-9-]+)/?$`)

// functions returns the AWS::Serverless::Function resources, sorted by
// logical ID.
func (tpl *template) functions() []function {
	var fns []function
	for id, r := range tpl.resources {
		if scalar(lookup(r, "Type")) != "AWS::Serverless::Function" {
			continue
		}
		props := lookup(r, "Properties")
		f := function{logicalID: id, props: props}
		if m := codeURIPattern.FindStringSubmatch(scalar(lookup(props, "CodeUri"))); m != nil {
			f.name = m[1]
		}
		fns = append(fns, f)
	}
	slices.SortFunc(fns, func(a, b function) int { return strings.Compare(a.logicalID, b.logicalID) })
	return fns
}

func (tpl *template) function(name string) (function, bool) {
	for _, f := range tpl.functions() {
		if f.name == name {
			return f, true
		}
	}
	return function{}, false
}

// property returns the function's own value of key, else the Globals one.
func (tpl *template) property(f function, key string) *yaml.Node {
	if n := lookup(f.props, key); n != nil {
		return n
	}
	return lookup(tpl.globals, key)
}

// lookup follows mapping keys from n; it returns nil when one is missing.
func lookup(n *yaml.Node, path ...string) *yaml.Node {
	if n != nil && n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		n = n.Content[0]
	}
	for _, key := range path {
		if n == nil || n.Kind != yaml.MappingNode {
			return nil
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				next = n.Content[i+1]
				break
			}
		}
		n = next
	}
	return n
}

// children returns the items of a sequence node; nil for anything else.
func children(n *yaml.Node) []*yaml.Node {
	if n == nil || n.Kind != yaml.SequenceNode {
		return nil
	}
	return n.Content
}

// mappingValues returns the values of a mapping node, in order.
func mappingValues(n *yaml.Node) []*yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	var vs []*yaml.Node
	for i := 1; i < len(n.Content); i += 2 {
		vs = append(vs, n.Content[i])
	}
	return vs
}

func scalar(n *yaml.Node) string {
	if n == nil || n.Kind != yaml.ScalarNode {
		return ""
	}
	return n.Value
}

// getAtt decodes !GetAtt X.Attr, !GetAtt [X, Attr] and their Fn::GetAtt
// long forms.
func getAtt(n *yaml.Node) (logicalID, attr string) {
	if n == nil {
		return "", ""
	}
	if n.Tag != "!GetAtt" {
		long := lookup(n, "Fn::GetAtt")
		if long == nil {
			return "", ""
		}
		n = long
	}
	switch n.Kind {
	case yaml.ScalarNode:
		id, a, _ := strings.Cut(n.Value, ".")
		return id, a
	case yaml.SequenceNode:
		if len(n.Content) == 2 {
			return n.Content[0].Value, n.Content[1].Value
		}
	}
	return "", ""
}

// ---------------------------------------------------------------- helpers

// repoRoot walks up from the test's directory to the one holding go.mod.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test directory")
		}
		dir = parent
	}
}

// functionDirs lists the directories under dir that hold a main.go. A
// missing dir has none.
func functionDirs(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, e.Name(), "main.go")); err == nil {
			names = append(names, e.Name())
		}
	}
	return names, nil
}

func reportProblems(t *testing.T, problems []string) {
	t.Helper()
	for _, p := range problems {
		t.Error(p)
	}
}
