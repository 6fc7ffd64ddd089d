using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace ReplyAdmin.Engine.Processing
{
    /// <summary>
    /// Messages that leave the source while a run handles them: another host acknowledged them, or a person moved them.
    /// Such a message is "gone": it gets no notice, is never reported Done by this run, and nothing more is done with it.
    /// </summary>
    internal static class GoneMessages
    {
        /// <summary>Records that the message is gone; the outcome is <see cref="ReplyOutcome.Gone"/>, never Done or Failed.</summary>
        public static void Mark(ProcessingResult result, string why)
        {
            result.Outcome = ReplyOutcome.Gone;
            result.Reason = "Gone from the source (moved by another host or a person): " + why;
            result.ErrorId = null;
            result.Error = null;
            result.Actions.Add("Gone from the source");
        }

        /// <summary>The error a source raises when a message it was asked for is no longer there.</summary>
        public static ReplyAdminException Error(string messageId, string action, Exception inner = null) =>
            new ReplyAdminException(ErrorIds.SourceMessageGone, ReplyAdminErrorKind.ObjectNotFound,
                $"Message {messageId} is no longer at the source (while trying to {action}): another host or a person moved it.", messageId,
                "Nothing to do: whoever moved it handles it.", inner, transient: true);

        /// <summary>
        /// Loads the batch's headers; returns the failure (for every message of the batch) when that failed without ending
        /// the run, null when it succeeded.
        /// </summary>
        public static async Task<ReplyAdminException> LoadHeadersAsync(IReplySource source, IReadOnlyList<SourceMessage> batch, CancellationToken cancellationToken)
        {
            try
            {
                await source.LoadHeadersAsync(batch, cancellationToken).ConfigureAwait(false);
                return null;
            }
            catch (Exception e) when (!FailurePolicy.EndsRun(e, cancellationToken))
            {
                var error = e as ReplyAdminException;
                // Transient: the next run reads them again; nothing here says the messages themselves are at fault.
                return error != null && error.Transient ? error : new ReplyAdminException(error?.ErrorId ?? ErrorIds.MessageProcessingFailed, ReplyAdminErrorKind.ReadError,
                    $"Reading the headers of {batch.Count} message(s) failed: {e.Message}", batch[0].Id, "The messages stay at the source; the next run reads them again.", e, transient: true);
            }
        }
    }
}
