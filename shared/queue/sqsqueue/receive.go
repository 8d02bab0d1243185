package sqsqueue

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/eclipse-csi/advisoryhub/shared/queue"
)

const (
	// pollWait is the long-poll wait of one ReceiveMessage call.
	pollWait = 5 // seconds
	// pollBatch is the most messages one ReceiveMessage call returns.
	pollBatch = 10
	// deleteTimeout bounds the delete of a handled message, which runs even
	// after the Poll context is done.
	deleteTimeout = 5 * time.Second
	// returnMargin is how long before the Lambda deadline HandleEvent stops
	// its handlers, so the partial batch response still gets out (at most a
	// tenth of the time the invocation has).
	returnMargin = 3 * time.Second
)

// HandleEvent is the body of an SQS-triggered Lambda function configured
// with ReportBatchItemFailures. It handles the records in order and reports
// the message IDs of those that must be redelivered: records whose body does
// not decode (the redrive policy then moves them to the dead-letter queue)
// and records whose handler returned an error not marked queue.Permanent.
//
// The handlers run under a deadline a little before the invocation's own
// (returnMargin), and a record not started by then is reported for
// redelivery untouched: the function answers with its partial batch
// response in time instead of being stopped by the Lambda timeout, which
// would redeliver the whole batch, records already handled included (an
// email sent twice, say).
func HandleEvent(ctx context.Context, ev events.SQSEvent, h queue.Handler) events.SQSEventResponse {
	hctx := ctx
	if dl, ok := ctx.Deadline(); ok {
		margin := min(returnMargin, time.Until(dl)/10)
		var cancel context.CancelFunc
		hctx, cancel = context.WithDeadline(ctx, dl.Add(-margin))
		defer cancel()
	}
	var resp events.SQSEventResponse
	for _, r := range ev.Records {
		if hctx.Err() != nil {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: r.MessageId})
			continue
		}
		m, err := decode(r.Body, r.Attributes[string(types.MessageSystemAttributeNameApproximateReceiveCount)])
		if err == nil {
			err = h(hctx, m)
		}
		if err != nil && !queue.IsPermanent(err) {
			resp.BatchItemFailures = append(resp.BatchItemFailures,
				events.SQSBatchItemFailure{ItemIdentifier: r.MessageId})
		}
	}
	return resp
}

// Poll receives messages from the named queue with long polling and hands
// each to h, until ctx is done; it then returns nil. This is the consumer of
// the local shim; in AWS, Lambda's event source mapping and HandleEvent take
// its place.
//
// A message is deleted when h returns nil or a queue.Permanent error.
// Otherwise, and when the body does not decode, the message is left to
// become visible again and eventually to move to the dead-letter queue.
// Poll returns an error only when receiving or deleting fails.
func (s *Sender) Poll(ctx context.Context, name queue.Name, h queue.Handler) error {
	url, ok := s.urls[name]
	if !ok {
		return fmt.Errorf("sqs poll %s: no queue URL configured", name)
	}
	for {
		out, err := s.client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl:            aws.String(url),
			MaxNumberOfMessages: pollBatch,
			WaitTimeSeconds:     pollWait,
			MessageSystemAttributeNames: []types.MessageSystemAttributeName{
				types.MessageSystemAttributeNameApproximateReceiveCount,
			},
		})
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			return fmt.Errorf("sqs receive from %s: %w", name, err)
		}
		for _, msg := range out.Messages {
			if ctx.Err() != nil {
				return nil // the rest become visible again
			}
			m, err := decode(aws.ToString(msg.Body),
				msg.Attributes[string(types.MessageSystemAttributeNameApproximateReceiveCount)])
			if err != nil {
				continue // poison: left for the redrive policy
			}
			if err := h(ctx, m); err != nil && !queue.IsPermanent(err) {
				continue // redelivered after the visibility timeout
			}
			if err := s.delete(ctx, url, msg.ReceiptHandle); err != nil {
				return fmt.Errorf("sqs delete from %s: %w", name, err)
			}
		}
	}
}

// delete acknowledges a handled message. It outlives the cancellation of
// ctx, so a message handled just before shutdown is not redelivered.
func (s *Sender) delete(ctx context.Context, url string, receipt *string) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), deleteTimeout)
	defer cancel()
	_, err := s.client.DeleteMessage(ctx, &sqs.DeleteMessageInput{
		QueueUrl:      aws.String(url),
		ReceiptHandle: receipt,
	})
	return err
}
