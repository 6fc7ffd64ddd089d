using System;
using System.Threading;
using System.Threading.Tasks;

namespace ReplyAdmin.Engine.Processing
{
    /// <summary>
    /// What a failure means for the run and the message. The error says it (<see cref="ReplyAdminException.Scope"/>,
    /// <see cref="ReplyAdminException.Transient"/>); this class only acts on it: a run-scoped error ends the run, anything
    /// else fails the message, which stays at the source, and a permanent failure counts an attempt towards the
    /// dead-letter place.
    /// </summary>
    internal sealed class FailurePolicy
    {
        private readonly IReplySource _source;
        private readonly IProcessingObserver _observer;
        private readonly ProcessingOptions _options;

        public FailurePolicy(IReplySource source, IProcessingObserver observer, ProcessingOptions options)
        {
            _source = source;
            _observer = observer;
            _options = options;
        }

        /// <summary>True for a failure that ends the run: a run-scoped error, or the run being cancelled.</summary>
        public static bool EndsRun(Exception e, CancellationToken cancellationToken) =>
            (e is OperationCanceledException && cancellationToken.IsCancellationRequested)
            || (e is ReplyAdminException error && error.Scope == FailureScope.Run);

        /// <summary>The failure as an engine error: one that is not already says it was unexpected (and so permanent).</summary>
        public static ReplyAdminException AsError(SourceMessage message, Exception e) =>
            e as ReplyAdminException ?? new ReplyAdminException(ErrorIds.MessageProcessingFailed, ReplyAdminErrorKind.NotSpecified,
                $"Handling message {message.Id} failed: {e.Message}", message.Id, "The message stays at the source; the next run retries it.", e);

        /// <summary>Records the failure in the result; the message stays at the source.</summary>
        public void Fail(ProcessingResult result, ReplyAdminException e)
        {
            if (e.ErrorId == ErrorIds.SourceMessageGone)
            {
                GoneMessages.Mark(result, e.Message);
                _observer.Verbose($"Message {result.SourceId} is gone from the source: {e.Message}");
                return;
            }
            result.Outcome = ReplyOutcome.Failed;
            result.Reason = e.Message;
            result.ErrorId = e.ErrorId;
            result.Error = e;
            result.Actions.Add("Left at the source");
            _observer.Verbose($"Message {result.SourceId} failed ({e.ErrorId}): {e.Message}");
        }

        /// <summary>Fails the item and, for a permanent failure, counts the attempt at the source (the last allowed one sets it aside).</summary>
        public async Task FailAsync(WorkItem item, Exception failure, CancellationToken cancellationToken)
        {
            var e = AsError(item.Message, failure);
            Fail(item.Result, e);
            if (_options.WhatIf || _options.MaxAttempts <= 0 || e.Transient) return;
            var message = item.Message;
            var attempt = message.Attempts + 1;
            try
            {
                if (attempt >= _options.MaxAttempts)
                {
                    await _source.MoveAsync(new[] { message }, SourceDestination.DeadLetter,
                        $"Failed {attempt} times; last error {e.ErrorId}: {e.Message}", cancellationToken).ConfigureAwait(false);
                    item.Result.AcknowledgedTo = message.AcknowledgedTo;
                    item.Result.Actions.Add($"Moved to {message.AcknowledgedTo} after {attempt} failed attempts");
                    item.Done = true;
                    _observer.Warning($"Message {message.Id} failed {attempt} times and was set aside in {message.AcknowledgedTo}: {e.Message}");
                }
                else
                {
                    await _source.RecordAttemptAsync(message, cancellationToken).ConfigureAwait(false);
                    item.Result.Actions.Add($"Attempt {attempt} of {_options.MaxAttempts} counted");
                }
            }
            catch (ReplyAdminException bookkeeping)
            {
                // The message stays at the source as it is; the original failure is what the result reports.
                _observer.Verbose($"Counting the failed attempt of message {message.Id} failed too ({bookkeeping.ErrorId}): {bookkeeping.Message}");
            }
        }
    }
}
