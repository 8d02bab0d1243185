package deploytest

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/eclipse-csi/advisoryhub/shared/config"
)

// TestEnvironmentParity keeps the deployed environment in step with the
// code (issue 7: settings the functions read never reached them):
//   - every variable template.yaml sets is one config.Load reads;
//   - every variable given a secret-ARN parameter (…Arn) is one of
//     config's secrets, so boot resolves it at cold start;
//   - such a secret is readable by exactly the roles of the functions that
//     get it;
//   - every config secret is set on some function (notDeployed aside);
//   - infra/stack.go gives each function the same variables as the
//     template (a grep-level check: the CDK module isn't compiled here).
func TestEnvironmentParity(t *testing.T) {
	root := repoRoot(t)
	tpl := readTemplate(t, filepath.Join(root, "template.yaml"))
	src, err := os.ReadFile(filepath.Join(root, "infra", "stack.go"))
	if err != nil {
		t.Fatal(err)
	}
	reportProblems(t, checkEnvParity(tpl, src))
}

// provisionedAhead are variables the deployment already provides for
// features whose configuration is not loaded yet (the GitHub App of the
// GHSA integration, the similarity LLM). Once config reads one, the check
// asks for its removal here, and from then on it is held to the rules.
var provisionedAhead = []string{"GITHUB_APP_PRIVATE_KEY", "SIMILARITY_LLM_API_KEY"}

// notDeployed are config secrets template.yaml deliberately leaves out.
var notDeployed = map[string]string{
	// The Lambda deployment authenticates to the publication repository
	// with PUB_REPO_TOKEN; no parameter carries an SSH key yet.
	"PUB_REPO_SSH_KEY": "no SSH-key parameter",
}

func checkEnvParity(tpl *template, stackSrc []byte) []string {
	var problems []string
	read := map[string]bool{}
	_, _ = config.Load(func(k string) (string, bool) { read[k] = true; return "", false })
	cfg := config.Config{}
	secrets := cfg.Secrets()
	for _, name := range provisionedAhead {
		if read[name] {
			problems = append(problems, fmt.Sprintf("config.Load now reads %s: remove it from provisionedAhead", name))
		}
		read[name] = true
		if _, ok := secrets[name]; !ok {
			secrets[name] = nil
		}
	}

	checkVars := func(where string, vars *yaml.Node) {
		for i := 0; vars != nil && i+1 < len(vars.Content); i += 2 {
			name, val := vars.Content[i].Value, vars.Content[i+1]
			if !read[name] {
				problems = append(problems, fmt.Sprintf("%s sets %s, which config.Load never reads", where, name))
			}
			if param := refParam(val); strings.HasSuffix(param, "Arn") {
				if _, ok := secrets[name]; !ok {
					problems = append(problems, fmt.Sprintf("%s: %s comes from the ARN parameter %s but is not a config secret (never resolved)", where, name, param))
				}
			}
		}
	}
	set := map[string]bool{}
	check := func(where string, vars *yaml.Node) {
		for i := 0; vars != nil && i+1 < len(vars.Content); i += 2 {
			set[vars.Content[i].Value] = true
		}
		checkVars(where, vars)
	}
	check("Globals", lookup(tpl.globals, "Environment", "Variables"))

	// Secret parameter -> roles whose inline policies name it, and roles
	// whose function gets it.
	granted := map[string][]string{}
	for id, r := range tpl.resources {
		if scalar(lookup(r, "Type")) != "AWS::IAM::Role" {
			continue
		}
		for _, p := range refs(lookup(r, "Properties", "Policies")) {
			if strings.HasSuffix(p, "Arn") && !slices.Contains(granted[p], id) {
				granted[p] = append(granted[p], id)
			}
		}
	}
	needed := map[string][]string{}
	infra := infraEnv(stackSrc)
	for _, f := range tpl.functions() {
		vars := lookup(f.props, "Environment", "Variables")
		check(f.logicalID, vars)
		role, _ := getAtt(lookup(f.props, "Role"))
		var names []string
		for i := 0; vars != nil && i+1 < len(vars.Content); i += 2 {
			names = append(names, vars.Content[i].Value)
			if p := refParam(vars.Content[i+1]); strings.HasSuffix(p, "Arn") && !slices.Contains(needed[p], role) {
				needed[p] = append(needed[p], role)
			}
		}
		slices.Sort(names)
		if got, ok := infra[f.name]; !ok {
			problems = append(problems, fmt.Sprintf("infra/stack.go has no functionSpecs row for %q", f.name))
		} else if !slices.Equal(got, names) {
			problems = append(problems, fmt.Sprintf("%s environment: template.yaml %q, infra/stack.go %q", f.name, names, got))
		}
	}
	// Every secret the code reads reaches some function (issue 7: the CSAF
	// signing key was read but never deployed).
	for name, s := range secrets {
		if _, skip := notDeployed[name]; !skip && s != nil && !set[name] {
			problems = append(problems, fmt.Sprintf("config secret %s is set on no function in template.yaml", name))
		}
	}
	for p, roles := range needed {
		slices.Sort(roles)
		got := granted[p]
		slices.Sort(got)
		if !slices.Equal(got, roles) {
			problems = append(problems, fmt.Sprintf("secret %s is needed by %q but readable by %q", p, roles, got))
		}
	}
	for p, roles := range granted {
		if _, ok := needed[p]; !ok {
			problems = append(problems, fmt.Sprintf("secret %s is readable by %q but no function gets it", p, roles))
		}
	}
	slices.Sort(problems)
	return problems
}

// refParam returns X of a !Ref X value, else "".
func refParam(n *yaml.Node) string {
	if n != nil && n.Kind == yaml.ScalarNode && n.Tag == "!Ref" {
		return n.Value
	}
	return ""
}

// refs returns every !Ref target under n.
func refs(n *yaml.Node) []string {
	if n == nil {
		return nil
	}
	if p := refParam(n); p != "" {
		return []string{p}
	}
	var out []string
	for _, c := range n.Content {
		out = append(out, refs(c)...)
	}
	return out
}

var (
	specRowPattern = regexp.MustCompile(`\{\s*name:\s*"([a-z0-9-]+)"`)
	envKeyPattern  = regexp.MustCompile(`"([A-Z][A-Z0-9_]*)"\s*:`)
)

// infraEnv returns, per function of infra/stack.go's functionSpecs, the
// sorted variable names of its secrets and env maps.
func infraEnv(src []byte) map[string][]string {
	_, body, ok := bytes.Cut(src, []byte("func functionSpecs("))
	if !ok {
		return nil
	}
	body, _, _ = bytes.Cut(body, []byte("\n}\n"))
	out := map[string][]string{}
	locs := specRowPattern.FindAllSubmatchIndex(body, -1)
	for i, loc := range locs {
		end := len(body)
		if i+1 < len(locs) {
			end = locs[i+1][0]
		}
		name := string(body[loc[2]:loc[3]])
		names := []string{}
		for _, m := range envKeyPattern.FindAllSubmatch(body[loc[1]:end], -1) {
			names = append(names, string(m[1]))
		}
		slices.Sort(names)
		out[name] = names
	}
	return out
}

// The parity check must find drift, not pass everything.
func TestEnvParityFindsProblems(t *testing.T) {
	tpl, err := parseTemplate([]byte(`
Globals:
  Function:
    Environment:
      Variables:
        DATABASE_URL: !Ref DatabaseUrlSecretArn
Resources:
  PublishRole:
    Type: AWS::IAM::Role
    Properties:
      Policies:
        - PolicyDocument:
            Statement:
              - Resource: !Ref PubRepoTokenArn
  NotifyRole:
    Type: AWS::IAM::Role
    Properties:
      Policies:
        - PolicyDocument:
            Statement:
              - Resource: !Ref PubCsafSigningKeyArn
  PublishFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: build/publish/
      Role: !GetAtt PublishRole.Arn
      Environment:
        Variables:
          PUB_REPO_TOKEN: !Ref PubRepoTokenArn
          PUB_CSAF_SIGNING_KEY: !Ref PubCsafSigningKeyArn
          PUB_CSAF_SIGNING_KEY_TYPO: !Ref Typo
          PUB_REPO_URL: !Ref PubRepoUrlArn
`))
	if err != nil {
		t.Fatal(err)
	}
	stack := []byte("func functionSpecs(c Config) []functionSpec {\n\treturn []functionSpec{\n" +
		`		{name: "publish", secrets: map[string]string{"PUB_REPO_TOKEN": c.X}},` + "\n\t}\n}\n")
	got := strings.Join(checkEnvParity(tpl, stack), "\n")
	for _, want := range []string{
		"PUB_CSAF_SIGNING_KEY_TYPO, which config.Load never reads",
		"PUB_REPO_URL comes from the ARN parameter PubRepoUrlArn but is not a config secret",
		`secret PubCsafSigningKeyArn is needed by ["PublishRole"] but readable by ["NotifyRole"]`,
		"publish environment: template.yaml",
		"config secret PUB_CSAF_SIGNING_KEY_PASSPHRASE is set on no function",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("no problem %q in:\n%s", want, got)
		}
	}
}

// TestNotifyBaseURL: the notify function refuses to start without
// ADVISORYHUB_BASE_URL (the origin of the invitation links), so neither
// deployment may leave it empty: an empty BaseUrl parameter (baseUrl
// context key) falls back to the web function URL.
func TestNotifyBaseURL(t *testing.T) {
	root := repoRoot(t)
	tpl := readTemplate(t, filepath.Join(root, "template.yaml"))
	src, err := os.ReadFile(filepath.Join(root, "infra", "stack.go"))
	if err != nil {
		t.Fatal(err)
	}
	reportProblems(t, checkNotifyBaseURL(tpl, src))

	broken, err := parseTemplate([]byte(`
Resources:
  NotifyFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: build/notify/
      Environment:
        Variables:
          ADVISORYHUB_BASE_URL: !Ref BaseUrl
`))
	if err != nil {
		t.Fatal(err)
	}
	stack := []byte("func functionSpecs(c Config) []functionSpec {\n\treturn []functionSpec{\n" +
		`		{name: "notify", env: map[string]string{"ADVISORYHUB_BASE_URL": c.BaseURL}},` + "\n\t}\n}\n")
	if got := checkNotifyBaseURL(broken, stack); len(got) != 2 {
		t.Errorf("a notify base URL without fallback: got problems %q, want 2", got)
	}
}

var orWebURLPattern = regexp.MustCompile(`orWebURL:\s*\[\]string\{[^}]*"ADVISORYHUB_BASE_URL"`)

func checkNotifyBaseURL(tpl *template, stackSrc []byte) []string {
	var problems []string
	f, ok := tpl.function("notify")
	if !ok {
		return []string{"template.yaml has no notify function"}
	}
	v := lookup(f.props, "Environment", "Variables", "ADVISORYHUB_BASE_URL")
	if v == nil || v.Tag != "!If" || len(v.Content) != 3 || refParam(v.Content[1]) != "BaseUrl" {
		problems = append(problems, "template.yaml: notify's ADVISORYHUB_BASE_URL must be !If [HasBaseUrl, !Ref BaseUrl, !GetAtt WebFunctionUrl.FunctionUrl]")
	} else if id, attr := getAtt(v.Content[2]); id != "WebFunctionUrl" || attr != "FunctionUrl" {
		problems = append(problems, "template.yaml: notify's ADVISORYHUB_BASE_URL must fall back to !GetAtt WebFunctionUrl.FunctionUrl")
	}
	if row := infraRow(stackSrc, "notify"); !orWebURLPattern.Match(row) {
		problems = append(problems, `infra/stack.go: the notify row must list "ADVISORYHUB_BASE_URL" in orWebURL`)
	}
	return problems
}

// infraRow returns the text of name's row in infra/stack.go's
// functionSpecs, nil if there is none.
func infraRow(src []byte, name string) []byte {
	_, body, ok := bytes.Cut(src, []byte("func functionSpecs("))
	if !ok {
		return nil
	}
	body, _, _ = bytes.Cut(body, []byte("\n}\n"))
	locs := specRowPattern.FindAllSubmatchIndex(body, -1)
	for i, loc := range locs {
		if string(body[loc[2]:loc[3]]) != name {
			continue
		}
		end := len(body)
		if i+1 < len(locs) {
			end = locs[i+1][0]
		}
		return body[loc[0]:end]
	}
	return nil
}
