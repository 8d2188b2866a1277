/* Intrusive doubly linked lists. A node links through two of its own
 * fields, named by the caller (prev and next); the list is the pointer to its
 * first node. Macros, because the node's type varies from list to list, as
 * in libuv's queue.h and BSD's <sys/queue.h>. Each argument is evaluated
 * more than once: pass plain lvalues. */
#ifndef CWX_COMMON_LIST_H
#define CWX_COMMON_LIST_H

/* Puts node (not in the list) first in the list whose first node is head. */
#define CWX_LIST_PUSH(head, node, prev, next)                                                  \
    do {                                                                                       \
        (node)->prev = NULL;                                                                   \
        (node)->next = (head);                                                                 \
        if (head)                                                                              \
            (head)->prev = (node);                                                             \
        (head) = (node);                                                                       \
    } while (0)

/* Takes node out of the list whose first node is head and clears its links.
 * A list that also keeps its last node updates it first:
 * `if (!node->next) tail = node->prev;`. */
#define CWX_LIST_UNLINK(head, node, prev, next)                                                \
    do {                                                                                       \
        if ((node)->prev)                                                                      \
            (node)->prev->next = (node)->next;                                                 \
        else                                                                                   \
            (head) = (node)->next;                                                             \
        if ((node)->next)                                                                      \
            (node)->next->prev = (node)->prev;                                                 \
        (node)->prev = (node)->next = NULL;                                                    \
    } while (0)

#endif
