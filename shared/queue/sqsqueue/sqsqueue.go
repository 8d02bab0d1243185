// Package sqsqueue is the Amazon SQS transport for queue messages: a Sender
// for the outbox dispatcher, a Lambda adapter for the worker functions, a
// long-poll loop for the local shim, and queue setup for local use and tests.
//
// The body of every SQS message is the JSON encoding of a queue.Message. The
// message attributes "kind" and "message_id" repeat the job kind and ID so
// that operators can read them without decoding the body.
//
// Failures are left to SQS: a message whose handler fails, or whose body does
// not decode, is not deleted, so it becomes visible again after the
// visibility timeout and the queue's redrive policy eventually moves it to
// the dead-letter queue. A handler error marked with queue.Permanent is the
// exception: the message is acknowledged, because the handler has recorded
// the failure and a redelivery would only repeat it.
package sqsqueue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/eclipse-csi/advisoryhub/shared/queue"
)

// Message attribute names set on every message sent.
const (
	AttrKind      = "kind"
	AttrMessageID = "message_id"
)

// Config holds the dependencies of a Sender.
type Config struct {
	Client *sqs.Client
	// URLs maps every queue.Names() entry to its SQS queue URL.
	URLs map[queue.Name]string
}

// Sender sends messages to SQS. It implements queue.Sender.
type Sender struct {
	client *sqs.Client
	urls   map[queue.Name]string
}

var _ queue.Sender = (*Sender)(nil)

// New returns a Sender. It rejects a missing client, a missing URL for any
// known queue, and URLs for unknown queues.
func New(cfg Config) (*Sender, error) {
	var errs []error
	if cfg.Client == nil {
		errs = append(errs, errors.New("sqsqueue: Client is required"))
	}
	for _, n := range queue.Names() {
		if cfg.URLs[n] == "" {
			errs = append(errs, fmt.Errorf("sqsqueue: URL for queue %s is required", n))
		}
	}
	for n := range cfg.URLs {
		if !n.Valid() {
			errs = append(errs, fmt.Errorf("sqsqueue: URL for unknown queue %q", n))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return &Sender{client: cfg.Client, urls: maps.Clone(cfg.URLs)}, nil
}

// NewClient returns an SQS client built from the default AWS configuration
// (environment, shared files, the Lambda role). A non-empty region overrides
// the configured one. A non-empty endpoint is used as the base endpoint;
// otherwise the SDK's own endpoint settings apply, including the
// AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_SQS variables.
func NewClient(ctx context.Context, region, endpoint string) (*sqs.Client, error) {
	var opts []func(*config.LoadOptions) error
	if region != "" {
		opts = append(opts, config.WithRegion(region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("load aws config: %w", err)
	}
	return sqs.NewFromConfig(cfg, func(o *sqs.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
		}
	}), nil
}

// Send validates m and sends it to the SQS queue named by m.Queue.
// Errors name the queue, never its URL or the credentials.
func (s *Sender) Send(ctx context.Context, m queue.Message) error {
	if err := m.Validate(); err != nil {
		return fmt.Errorf("sqs send to %s: %w", m.Queue, err)
	}
	url, ok := s.urls[m.Queue]
	if !ok {
		return fmt.Errorf("sqs send to %s: no queue URL configured", m.Queue)
	}
	body, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("sqs send to %s: %w", m.Queue, err)
	}
	_, err = s.client.SendMessage(ctx, &sqs.SendMessageInput{
		QueueUrl:    aws.String(url),
		MessageBody: aws.String(string(body)),
		MessageAttributes: map[string]types.MessageAttributeValue{
			AttrKind:      stringAttr(string(m.Kind)),
			AttrMessageID: stringAttr(m.ID),
		},
	})
	if err != nil {
		return fmt.Errorf("sqs send to %s: %w", m.Queue, err)
	}
	return nil
}

func stringAttr(v string) types.MessageAttributeValue {
	return types.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(v)}
}

// decode turns an SQS body and its ApproximateReceiveCount attribute into a
// Message. A body that is not a valid Message is an error: the caller leaves
// it for the redrive policy.
func decode(body, receiveCount string) (queue.Message, error) {
	var m queue.Message
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		return queue.Message{}, fmt.Errorf("decode message body: %w", err)
	}
	if err := m.Validate(); err != nil {
		return queue.Message{}, fmt.Errorf("decode message body: %w", err)
	}
	m.Attempt = 1
	if n, err := strconv.Atoi(receiveCount); err == nil && n > 0 {
		m.Attempt = n
	}
	return m, nil
}
