package sqsqueue_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/google/go-cmp/cmp"

	"github.com/eclipse-csi/advisoryhub/shared/queue"
	"github.com/eclipse-csi/advisoryhub/shared/queue/sqsqueue"
	"github.com/eclipse-csi/advisoryhub/shared/queue/sqsqueue/sqstest"
)

func TestMain(m *testing.M) { sqstest.Main(m) }

// env is one test's queues on the shared moto server.
type env struct {
	client *sqs.Client
	queues map[queue.Name]sqsqueue.QueueURLs
	sender *sqsqueue.Sender
}

func newEnv(t *testing.T, maxReceiveCount int, visibility time.Duration) env {
	t.Helper()
	client := sqstest.Client(t, sqstest.Start(t))
	queues, err := sqsqueue.EnsureQueues(t.Context(), client, sqstest.Prefix(t), maxReceiveCount, visibility)
	if err != nil {
		t.Fatal(err)
	}
	urls := make(map[queue.Name]string)
	for n, q := range queues {
		urls[n] = q.Queue
	}
	s, err := sqsqueue.New(sqsqueue.Config{Client: client, URLs: urls})
	if err != nil {
		t.Fatal(err)
	}
	return env{client: client, queues: queues, sender: s}
}

// depth returns the visible and in-flight message counts of the queue at url.
func depth(t *testing.T, client *sqs.Client, url string) (visible, inFlight int) {
	t.Helper()
	out, err := client.GetQueueAttributes(t.Context(), &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(url),
		AttributeNames: []types.QueueAttributeName{
			types.QueueAttributeNameApproximateNumberOfMessages,
			types.QueueAttributeNameApproximateNumberOfMessagesNotVisible,
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	atoi := func(name types.QueueAttributeName) int {
		n, err := strconv.Atoi(out.Attributes[string(name)])
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return n
	}
	return atoi(types.QueueAttributeNameApproximateNumberOfMessages),
		atoi(types.QueueAttributeNameApproximateNumberOfMessagesNotVisible)
}

// poll runs Poll in the background until the returned stop is called, which
// waits for Poll to return and checks that it returned nil.
func poll(t *testing.T, s *sqsqueue.Sender, name queue.Name, h queue.Handler) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- s.Poll(ctx, name, h) }()
	return func() {
		t.Helper()
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Poll: %v", err)
		}
	}
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		case <-tick.C:
		}
	}
}

func msg(id string) queue.Message {
	return queue.Message{
		ID:      id,
		Queue:   queue.Publish,
		Kind:    "publication.run",
		Payload: json.RawMessage(`{"advisory_id":"ADV-2026-0001"}`),
	}
}

func TestNew(t *testing.T) {
	client := sqstest.Client(t, "http://127.0.0.1:1")
	all := map[queue.Name]string{queue.Publish: "u1", queue.Notify: "u2", queue.Similarity: "u3"}
	tests := []struct {
		name string
		cfg  sqsqueue.Config
		want []string // substrings of the error; none means success
	}{
		{"ok", sqsqueue.Config{Client: client, URLs: all}, nil},
		{"empty", sqsqueue.Config{}, []string{"Client is required", "publish", "notify", "similarity"}},
		{"missing url", sqsqueue.Config{Client: client, URLs: map[queue.Name]string{queue.Publish: "u1"}}, []string{"notify", "similarity"}},
		{"unknown queue", sqsqueue.Config{Client: client, URLs: map[queue.Name]string{
			queue.Publish: "u1", queue.Notify: "u2", queue.Similarity: "u3", "bogus": "u4",
		}}, []string{`unknown queue "bogus"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := sqsqueue.New(tt.cfg)
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("New: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("New: got nil error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("New error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestSendPoll(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 3, 30*time.Second)
	want := msg("job-1")
	if err := e.sender.Send(t.Context(), want); err != nil {
		t.Fatal(err)
	}

	got := make(chan queue.Message, 10)
	stop := poll(t, e.sender, queue.Publish, func(_ context.Context, m queue.Message) error {
		got <- m
		return nil
	})
	select {
	case m := <-got:
		want.Attempt = 1
		if diff := cmp.Diff(want, m); diff != "" {
			t.Errorf("received message (-want +got):\n%s", diff)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no message received")
	}
	stop()

	if v, f := depth(t, e.client, e.queues[queue.Publish].Queue); v != 0 || f != 0 {
		t.Errorf("after success: %d visible, %d in flight; want the message deleted", v, f)
	}
	if len(got) != 0 {
		t.Errorf("handler called %d more times", len(got))
	}
}

func TestSendWireFormat(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 3, 30*time.Second)
	m := msg("job-wire")
	m.Queue = queue.Notify
	if err := e.sender.Send(t.Context(), m); err != nil {
		t.Fatal(err)
	}
	out, err := e.client.ReceiveMessage(t.Context(), &sqs.ReceiveMessageInput{
		QueueUrl:              aws.String(e.queues[queue.Notify].Queue),
		MessageAttributeNames: []string{"All"},
		WaitTimeSeconds:       5,
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Messages) != 1 {
		t.Fatalf("got %d messages, want 1", len(out.Messages))
	}
	r := out.Messages[0]
	wantBody := `{"id":"job-wire","queue":"notify","kind":"publication.run","payload":{"advisory_id":"ADV-2026-0001"}}`
	if got := aws.ToString(r.Body); got != wantBody {
		t.Errorf("body = %s\nwant   %s", got, wantBody)
	}
	attrs := map[string]string{}
	for k, v := range r.MessageAttributes {
		attrs[k] = aws.ToString(v.DataType) + ":" + aws.ToString(v.StringValue)
	}
	wantAttrs := map[string]string{"kind": "String:publication.run", "message_id": "String:job-wire"}
	if diff := cmp.Diff(wantAttrs, attrs); diff != "" {
		t.Errorf("message attributes (-want +got):\n%s", diff)
	}
}

func TestSendInvalid(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 3, 30*time.Second)
	bad := msg("")
	bad.Payload = json.RawMessage(`{not json`)
	err := e.sender.Send(t.Context(), bad)
	if err == nil {
		t.Fatal("Send of invalid message: got nil error")
	}
	for _, w := range []string{"sqs send to publish", "id is required", "payload is not valid JSON"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not mention %q", err, w)
		}
	}
	unknown := msg("job-x")
	unknown.Queue = "bogus"
	if err := e.sender.Send(t.Context(), unknown); err == nil {
		t.Error("Send to unknown queue: got nil error")
	}
	for n, q := range e.queues {
		if v, f := depth(t, e.client, q.Queue); v != 0 || f != 0 {
			t.Errorf("queue %s: %d visible, %d in flight; want nothing sent", n, v, f)
		}
	}
}

func TestRedeliveryThenDLQ(t *testing.T) {
	t.Parallel()
	const maxReceive = 2
	e := newEnv(t, maxReceive, time.Second)
	if err := e.sender.Send(t.Context(), msg("job-flaky")); err != nil {
		t.Fatal(err)
	}
	attempts := make(chan int, 10)
	stop := poll(t, e.sender, queue.Publish, func(_ context.Context, m queue.Message) error {
		attempts <- m.Attempt
		return errors.New("transient failure")
	})
	dlq := e.queues[queue.Publish].DLQ
	waitFor(t, 10*time.Second, "the message to reach the DLQ", func() bool {
		n, err := sqsqueue.DLQDepth(t.Context(), e.client, dlq)
		if err != nil {
			t.Fatal(err)
		}
		return n == 1
	})
	stop()

	close(attempts)
	var got []int
	for a := range attempts {
		got = append(got, a)
	}
	if diff := cmp.Diff([]int{1, 2}, got); diff != "" {
		t.Errorf("attempts (-want +got):\n%s", diff)
	}
	if v, f := depth(t, e.client, e.queues[queue.Publish].Queue); v != 0 || f != 0 {
		t.Errorf("source queue: %d visible, %d in flight; want empty", v, f)
	}
	// The DLQ holds the original body.
	out, err := e.client.ReceiveMessage(t.Context(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(dlq)})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Messages) != 1 || !strings.Contains(aws.ToString(out.Messages[0].Body), `"id":"job-flaky"`) {
		t.Errorf("DLQ messages = %+v, want job-flaky", out.Messages)
	}
}

func TestPollPoisonToDLQ(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 1, time.Second)
	url := e.queues[queue.Publish].Queue
	for _, body := range []string{"not json", `{"id":"","queue":"publish","kind":"k"}`} {
		if _, err := e.client.SendMessage(t.Context(), &sqs.SendMessageInput{
			QueueUrl: aws.String(url), MessageBody: aws.String(body),
		}); err != nil {
			t.Fatal(err)
		}
	}
	called := make(chan queue.Message, 10)
	stop := poll(t, e.sender, queue.Publish, func(_ context.Context, m queue.Message) error {
		called <- m
		return nil
	})
	waitFor(t, 10*time.Second, "both poison messages to reach the DLQ", func() bool {
		n, err := sqsqueue.DLQDepth(t.Context(), e.client, e.queues[queue.Publish].DLQ)
		if err != nil {
			t.Fatal(err)
		}
		return n == 2
	})
	stop()
	if len(called) != 0 {
		t.Errorf("handler called %d times for undecodable messages", len(called))
	}
}

func TestPollPermanentIsDeleted(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 3, time.Second)
	if err := e.sender.Send(t.Context(), msg("job-doomed")); err != nil {
		t.Fatal(err)
	}
	called := make(chan int, 10)
	stop := poll(t, e.sender, queue.Publish, func(_ context.Context, m queue.Message) error {
		called <- m.Attempt
		return queue.Permanent(errors.New("advisory withdrawn"))
	})
	select {
	case <-called:
	case <-time.After(10 * time.Second):
		t.Fatal("no message received")
	}
	stop()
	if v, f := depth(t, e.client, e.queues[queue.Publish].Queue); v != 0 || f != 0 {
		t.Errorf("after permanent failure: %d visible, %d in flight; want the message deleted", v, f)
	}
	if n, err := sqsqueue.DLQDepth(t.Context(), e.client, e.queues[queue.Publish].DLQ); err != nil || n != 0 {
		t.Errorf("DLQDepth = %d, %v; want 0", n, err)
	}
}

func TestHandleEvent(t *testing.T) {
	raw, err := os.ReadFile("testdata/event.json")
	if err != nil {
		t.Fatal(err)
	}
	var ev events.SQSEvent
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	var calls []string
	resp := sqsqueue.HandleEvent(t.Context(), ev, func(_ context.Context, m queue.Message) error {
		calls = append(calls, m.ID+"#"+strconv.Itoa(m.Attempt))
		switch m.ID {
		case "job-fail":
			return errors.New("transient failure")
		case "job-permanent":
			return queue.Permanent(errors.New("cannot ever succeed"))
		}
		return nil
	})
	wantCalls := []string{"job-1#1", "job-fail#3", "job-permanent#1", "job-2#2"}
	if diff := cmp.Diff(wantCalls, calls); diff != "" {
		t.Errorf("handler calls (-want +got):\n%s", diff)
	}
	want := events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{
		{ItemIdentifier: "rec-fail"},
		{ItemIdentifier: "rec-poison"},
	}}
	if diff := cmp.Diff(want, resp); diff != "" {
		t.Errorf("response (-want +got):\n%s", diff)
	}
}

// TestHandleEventReturnsBeforeTheDeadline: a handler still running near
// the invocation's deadline is stopped, the records not yet started are
// reported for redelivery without being handled, the ones handled before
// are not, and the response leaves before the deadline.
func TestHandleEventReturnsBeforeTheDeadline(t *testing.T) {
	ev := events.SQSEvent{}
	for i := range 4 {
		body, err := json.Marshal(queue.Message{ID: "job-" + strconv.Itoa(i), Queue: queue.Notify, Kind: "invitation.send_email"})
		if err != nil {
			t.Fatal(err)
		}
		ev.Records = append(ev.Records, events.SQSMessage{MessageId: "rec-" + strconv.Itoa(i), Body: string(body)})
	}
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
	defer cancel()
	var calls []string
	resp := sqsqueue.HandleEvent(ctx, ev, func(hctx context.Context, m queue.Message) error {
		calls = append(calls, m.ID)
		if m.ID == "job-1" { // a slow send: runs until stopped
			<-hctx.Done()
			return hctx.Err()
		}
		return nil
	})
	if ctx.Err() != nil {
		t.Error("answered after the invocation's deadline")
	}
	if diff := cmp.Diff([]string{"job-0", "job-1"}, calls); diff != "" {
		t.Errorf("handler calls (-want +got):\n%s", diff)
	}
	want := events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{
		{ItemIdentifier: "rec-1"}, {ItemIdentifier: "rec-2"}, {ItemIdentifier: "rec-3"},
	}}
	if diff := cmp.Diff(want, resp); diff != "" {
		t.Errorf("response (-want +got):\n%s", diff)
	}
}

func TestEnsureQueuesIdempotent(t *testing.T) {
	t.Parallel()
	client := sqstest.Client(t, sqstest.Start(t))
	prefix := sqstest.Prefix(t)
	first, err := sqsqueue.EnsureQueues(t.Context(), client, prefix, 3, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	// Different attributes on existing queues update them.
	second, err := sqsqueue.EnsureQueues(t.Context(), client, prefix, 5, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(first, second); diff != "" {
		t.Errorf("URLs changed (-first +second):\n%s", diff)
	}
	if len(second) != len(queue.Names()) {
		t.Errorf("got %d queues, want %d", len(second), len(queue.Names()))
	}
	for _, n := range queue.Names() {
		q := second[n]
		if !strings.HasSuffix(q.Queue, "/"+prefix+"-"+string(n)) || !strings.HasSuffix(q.DLQ, "/"+prefix+"-"+string(n)+"-dlq") {
			t.Errorf("queue %s: URLs %+v do not follow <prefix>-<name>[-dlq]", n, q)
		}
		out, err := client.GetQueueAttributes(t.Context(), &sqs.GetQueueAttributesInput{
			QueueUrl:       aws.String(q.Queue),
			AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameAll},
		})
		if err != nil {
			t.Fatal(err)
		}
		if got := out.Attributes["VisibilityTimeout"]; got != "10" {
			t.Errorf("queue %s: VisibilityTimeout = %s, want 10", n, got)
		}
		var rp struct {
			DeadLetterTargetArn string `json:"deadLetterTargetArn"`
			MaxReceiveCount     any    `json:"maxReceiveCount"`
		}
		if err := json.Unmarshal([]byte(out.Attributes["RedrivePolicy"]), &rp); err != nil {
			t.Fatalf("queue %s: RedrivePolicy %q: %v", n, out.Attributes["RedrivePolicy"], err)
		}
		if !strings.HasSuffix(rp.DeadLetterTargetArn, ":"+prefix+"-"+string(n)+"-dlq") {
			t.Errorf("queue %s: deadLetterTargetArn = %s", n, rp.DeadLetterTargetArn)
		}
		if s := strings.Trim(string(mustJSON(t, rp.MaxReceiveCount)), `"`); s != "5" {
			t.Errorf("queue %s: maxReceiveCount = %s, want 5", n, s)
		}
	}

	if _, err := sqsqueue.EnsureQueues(t.Context(), client, "bad prefix!", 0, 1500*time.Millisecond); err == nil {
		t.Error("EnsureQueues with bad arguments: got nil error")
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestNewClient(t *testing.T) {
	endpoint := sqstest.Start(t)
	// Credentials and region from the environment only; no shared files,
	// no instance metadata.
	dir := t.TempDir()
	t.Setenv("AWS_CONFIG_FILE", dir+"/config")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", dir+"/credentials")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_ACCESS_KEY_ID", sqstest.AccessKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", sqstest.SecretAccessKey)
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_REGION", sqstest.Region)
	t.Setenv("AWS_ENDPOINT_URL_SQS", "")
	t.Setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "")

	check := func(t *testing.T, region, endpointArg string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		client, err := sqsqueue.NewClient(ctx, region, endpointArg)
		if err != nil {
			t.Fatal(err)
		}
		name := sqstest.Prefix(t)
		if _, err := client.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name)}); err != nil {
			t.Fatalf("CreateQueue through NewClient: %v", err)
		}
		// The queue exists on moto, as seen by an independent client.
		if _, err := sqstest.Client(t, endpoint).GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(name)}); err != nil {
			t.Errorf("queue not on moto: %v", err)
		}
	}
	t.Run("endpoint argument", func(t *testing.T) {
		t.Setenv("AWS_ENDPOINT_URL", "")
		check(t, sqstest.Region, endpoint)
	})
	t.Run("AWS_ENDPOINT_URL", func(t *testing.T) {
		t.Setenv("AWS_ENDPOINT_URL", endpoint)
		check(t, "", "")
	})
}
