package sqsqueue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/eclipse-csi/advisoryhub/shared/queue"
)

// QueueURLs are the URLs of one logical queue and its dead-letter queue.
type QueueURLs struct {
	Queue string
	DLQ   string
}

// dlqRetention is the longest retention SQS allows, so that poison messages
// stay available to operators.
const dlqRetention = 14 * 24 * time.Hour

// queueNamePart matches what SQS accepts in a standard queue name.
var queueNamePart = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// EnsureQueues creates, for every queue.Names() entry n, the queues
// "<prefix>-<n>-dlq" and "<prefix>-<n>", and sets on the latter the given
// visibility timeout and a redrive policy that moves a message to the
// former once it has been received maxReceiveCount times. It is idempotent:
// on existing queues it only updates those attributes.
//
// It is meant for local development and tests; in AWS the queues come from
// the infrastructure templates.
func EnsureQueues(ctx context.Context, client *sqs.Client, prefix string, maxReceiveCount int, visibilityTimeout time.Duration) (map[queue.Name]QueueURLs, error) {
	var errs []error
	if client == nil {
		errs = append(errs, errors.New("ensure queues: client is required"))
	}
	if !queueNamePart.MatchString(prefix) || len(prefix) > 64 {
		errs = append(errs, fmt.Errorf("ensure queues: prefix %q must be 1-64 characters of A-Z a-z 0-9 _ -", prefix))
	}
	if maxReceiveCount < 1 || maxReceiveCount > 1000 {
		errs = append(errs, fmt.Errorf("ensure queues: maxReceiveCount %d not in 1..1000", maxReceiveCount))
	}
	if visibilityTimeout < 0 || visibilityTimeout > 12*time.Hour || visibilityTimeout%time.Second != 0 {
		errs = append(errs, fmt.Errorf("ensure queues: visibility timeout %s must be whole seconds in 0s..12h", visibilityTimeout))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}

	urls := make(map[queue.Name]QueueURLs, len(queue.Names()))
	for _, n := range queue.Names() {
		name := prefix + "-" + string(n)
		dlqURL, err := createQueue(ctx, client, name+"-dlq", map[string]string{
			string(types.QueueAttributeNameMessageRetentionPeriod): seconds(dlqRetention),
		})
		if err != nil {
			return nil, err
		}
		dlqARN, err := queueARN(ctx, client, name+"-dlq", dlqURL)
		if err != nil {
			return nil, err
		}
		redrive, err := json.Marshal(map[string]string{
			"deadLetterTargetArn": dlqARN,
			"maxReceiveCount":     strconv.Itoa(maxReceiveCount),
		})
		if err != nil {
			return nil, err
		}
		queueURL, err := createQueue(ctx, client, name, map[string]string{
			string(types.QueueAttributeNameVisibilityTimeout): seconds(visibilityTimeout),
			string(types.QueueAttributeNameRedrivePolicy):     string(redrive),
		})
		if err != nil {
			return nil, err
		}
		urls[n] = QueueURLs{Queue: queueURL, DLQ: dlqURL}
	}
	return urls, nil
}

// createQueue creates the named queue, or finds the existing one, and sets
// attrs on it. CreateQueue is called without attributes because SQS rejects
// it when an existing queue's attributes differ.
func createQueue(ctx context.Context, client *sqs.Client, name string, attrs map[string]string) (string, error) {
	out, err := client.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name)})
	if err != nil {
		return "", fmt.Errorf("create queue %s: %w", name, err)
	}
	if _, err := client.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{
		QueueUrl:   out.QueueUrl,
		Attributes: attrs,
	}); err != nil {
		return "", fmt.Errorf("set attributes of queue %s: %w", name, err)
	}
	return aws.ToString(out.QueueUrl), nil
}

func queueARN(ctx context.Context, client *sqs.Client, name, url string) (string, error) {
	out, err := client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl:       aws.String(url),
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameQueueArn},
	})
	if err != nil {
		return "", fmt.Errorf("get arn of queue %s: %w", name, err)
	}
	arn := out.Attributes[string(types.QueueAttributeNameQueueArn)]
	if arn == "" {
		return "", fmt.Errorf("get arn of queue %s: no QueueArn attribute", name)
	}
	return arn, nil
}

func seconds(d time.Duration) string { return strconv.Itoa(int(d / time.Second)) }

// DLQDepth returns the approximate number of visible messages in the queue
// at url, normally a dead-letter queue: the poison messages waiting for an
// operator.
func DLQDepth(ctx context.Context, client *sqs.Client, url string) (int, error) {
	out, err := client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl:       aws.String(url),
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameApproximateNumberOfMessages},
	})
	if err != nil {
		return 0, fmt.Errorf("dlq depth: %w", err)
	}
	v := out.Attributes[string(types.QueueAttributeNameApproximateNumberOfMessages)]
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("dlq depth: bad ApproximateNumberOfMessages %q", v)
	}
	return n, nil
}
